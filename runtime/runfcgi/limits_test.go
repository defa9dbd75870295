package runfcgi

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/ajp"
	"github.com/appgen/appgen/runtime/fastcgi"
	"github.com/appgen/appgen/runtime/scgi"
	"github.com/appgen/appgen/runtime/workpool"
)

func TestParseLimits(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want Limits
	}{
		{"none given: every server default", nil, Limits{}},
		{"backlog", []string{"backlog=200"}, Limits{Backlog: 200}},
		{"backlog=0 is no queue", []string{"backlog=0"}, Limits{Backlog: -1}},
		{"connections and requests", []string{"maxconns=300", "maxinflight=400", "maxmpx=20"}, Limits{MaxConns: 300, MaxInFlight: 400, MaxMPX: 20}},
		{"sizes", []string{"maxheader=32K", "maxbody=10M", "bodybuffer=256k", "maxspill=2G"},
			Limits{MaxHeader: 32 << 10, MaxBody: 10 << 20, BodyBuffer: 256 << 10, MaxSpill: 2 << 30}},
		{"sizes in bytes", []string{"maxbody=1000", "bodybuffer=1000"}, Limits{MaxBody: 1000, BodyBuffer: 1000}},
		{"tempdir", []string{"tempdir=/var/tmp/mysite"}, Limits{TempDir: "/var/tmp/mysite"}},
		{"empty tempdir is the default", []string{"tempdir="}, Limits{}},
		{"timeouts", []string{"headertimeout=5s", "readtimeout=30s", "writetimeout=1m", "idletimeout=90s"},
			Limits{HeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute, IdleTimeout: 90 * time.Second}},
		{"minbodyrate", []string{"minbodyrate=4K"}, Limits{MinBodyRate: 4096}},
		{"minbodyrate=0 is no minimum", []string{"minbodyrate=0"}, Limits{MinBodyRate: -1}},
		{"keys are not case sensitive", []string{"MaxConns=7"}, Limits{MaxConns: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Parse(tt.args, projectDefaults)
			if err != nil {
				t.Fatal(err)
			}
			if o.Limits != tt.want {
				t.Errorf("Parse(%q).Limits = %+v, want %+v", tt.args, o.Limits, tt.want)
			}
		})
	}
}

func TestParseLimitsErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"backlog negative", []string{"backlog=-1"}, `backlog="-1": want a whole number of at least 0`},
		{"backlog with prefork", []string{"method=prefork", "backlog=10"}, "backlog= is the threaded pool's queue; with method=prefork"},
		{"maxconns zero", []string{"maxconns=0"}, `maxconns="0": want a whole number of at least 1`},
		{"maxinflight not a number", []string{"maxinflight=lots"}, `maxinflight="lots": want a whole number of at least 1`},
		{"maxmpx zero", []string{"maxmpx=0"}, `maxmpx="0": want a whole number of at least 1`},
		{"maxheader unit", []string{"maxheader=64T"}, `maxheader="64T": want a positive whole number of bytes, K, M or G`},
		{"maxheader too large", []string{"maxheader=2G"}, `maxheader="2G": want at most 1G`},
		{"maxbody zero", []string{"maxbody=0"}, `maxbody="0": want a positive whole number of bytes`},
		{"maxbody empty", []string{"maxbody="}, `maxbody="": want a positive whole number`},
		{"bodybuffer above maxbody", []string{"maxbody=1M", "bodybuffer=2M"}, "bodybuffer=2097152 is more than maxbody=1048576"},
		{"minbodyrate negative", []string{"minbodyrate=-5"}, `minbodyrate="-5": want a positive whole number`},
		{"headertimeout without a unit", []string{"headertimeout=10"}, `headertimeout="10": want a positive duration such as 30s`},
		{"idletimeout zero", []string{"idletimeout=0s"}, `idletimeout="0s": want a positive duration`},
		{"maxmpx with scgi", []string{"protocol=scgi", "maxmpx=8"}, "maxmpx= is a FastCGI server limit; with protocol=scgi leave it out"},
		{"tempdir with ajp", []string{"protocol=ajp", "tempdir=/tmp"}, "tempdir= is a FastCGI server limit; with protocol=ajp leave it out"},
		{"maxspill with scgi", []string{"protocol=scgi", "maxspill=1G"}, "maxspill= is a FastCGI server limit"},
		{"bodybuffer with ajp", []string{"protocol=ajp", "bodybuffer=1M"}, "bodybuffer= is a FastCGI server limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Parse(tt.args, projectDefaults)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error containing %q", tt.args, o.Limits, tt.want)
			}
			if msg := err.Error(); !errors.Is(err, ErrUsage) || !strings.HasPrefix(msg, "runfcgi: ") || !strings.Contains(msg, tt.want) {
				t.Errorf("Parse(%q) error\n got %q\nwant runfcgi: ...%s...", tt.args, msg, tt.want)
			}
		})
	}
}

// TestLimitsReachServers: every Limits key sets its server's field, for each
// protocol, and backlog the threaded pool's queue.
func TestLimitsReachServers(t *testing.T) {
	common := []string{"maxconns=11", "maxinflight=12", "maxheader=13K", "maxbody=14M", "headertimeout=15s",
		"minbodyrate=16", "readtimeout=17s", "writetimeout=18s", "idletimeout=19s"}
	fcgiOnly := []string{"maxmpx=20", "bodybuffer=21K", "maxspill=22M", "tempdir=/var/tmp/x"}
	h := http.NotFoundHandler()
	tests := []struct {
		protocol string
		args     []string
		want     server
	}{
		{"fcgi", append(append([]string{"protocol=fcgi"}, common...), fcgiOnly...), &fastcgi.Server{Handler: h,
			MaxConns: 11, MaxRequests: 12, MaxHeaderBytes: 13 << 10, MaxBodyBytes: 14 << 20, ReadHeaderTimeout: 15 * time.Second,
			MinBodyRate: 16, ReadTimeout: 17 * time.Second, WriteTimeout: 18 * time.Second, IdleTimeout: 19 * time.Second,
			MaxConnRequests: 20, BodyMemoryBytes: 21 << 10, MaxSpillBytes: 22 << 20, TempDir: "/var/tmp/x"}},
		{"scgi", append([]string{"protocol=scgi"}, common...), &scgi.Server{Handler: h,
			MaxConns: 11, MaxRequests: 12, MaxHeaderBytes: 13 << 10, MaxBodyBytes: 14 << 20, ReadHeaderTimeout: 15 * time.Second,
			MinBodyRate: 16, ReadTimeout: 17 * time.Second, WriteTimeout: 18 * time.Second, IdleTimeout: 19 * time.Second}},
		{"ajp", append([]string{"protocol=ajp"}, common...), &ajp.Server{Handler: h,
			MaxConns: 11, MaxRequests: 12, MaxHeaderBytes: 13 << 10, MaxBodyBytes: 14 << 20, ReadHeaderTimeout: 15 * time.Second,
			MinBodyRate: 16, ReadTimeout: 17 * time.Second, WriteTimeout: 18 * time.Second, IdleTimeout: 19 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.protocol, func(t *testing.T) {
			o, err := Parse(tt.args, projectDefaults)
			if err != nil {
				t.Fatal(err)
			}
			r := &run{o: o}
			got, err := r.protocolServer(h, nil)
			if err != nil {
				t.Fatal(err)
			}
			if reflect.TypeOf(got) != reflect.TypeOf(tt.want) {
				t.Fatalf("protocol=%s made a %T", tt.protocol, got)
			}
			// Compare the exported fields only; ErrorLog is the run's (nil here).
			gv, wv := reflect.ValueOf(got).Elem(), reflect.ValueOf(tt.want).Elem()
			for i := range gv.NumField() {
				f := gv.Type().Field(i)
				if !f.IsExported() || f.Name == "Handler" || f.Name == "Pool" {
					continue
				}
				if g, w := gv.Field(i).Interface(), wv.Field(i).Interface(); !reflect.DeepEqual(g, w) {
					t.Errorf("%s: %v, want %v", f.Name, g, w)
				}
			}
		})
	}
	t.Run("backlog", func(t *testing.T) {
		for _, c := range []struct {
			arg  string
			want int // tasks that may wait
		}{{"", workpool.DefaultMaxQueue}, {"backlog=3", 3}, {"backlog=0", 0}} {
			o, err := Parse(strings.Fields("maxchildren=5 "+c.arg), projectDefaults)
			if err != nil {
				t.Fatal(err)
			}
			p, err := newPool(o)
			if err != nil {
				t.Fatal(err)
			}
			release := make(chan struct{})
			accepted := 0
			for p.Go(func() { <-release }) {
				accepted++
				if accepted > 5+workpool.DefaultMaxQueue {
					break
				}
			}
			close(release)
			p.Close()
			if accepted != 5+c.want {
				t.Errorf("%q: the pool took %d tasks, want maxchildren 5 + %d waiting", c.arg, accepted, c.want)
			}
		}
	})
}
