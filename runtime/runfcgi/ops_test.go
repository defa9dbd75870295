package runfcgi

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseOps(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want Ops
	}{
		{"none: every limit off", nil, Ops{}},
		{"timeout and slowlog", []string{"timeout=30s", "slowlog=5s"}, Ops{Timeout: 30 * time.Second, SlowLog: 5 * time.Second}},
		{"prefork recycling", []string{"method=prefork", "maxrequests=1000", "jitter=50", "maxrss=512M"}, Ops{Jitter: 50, MaxRSS: 512 << 20}},
		{"key case does not matter", []string{"TIMEOUT=1m"}, Ops{Timeout: time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Parse(tt.args, projectDefaults)
			if err != nil {
				t.Fatal(err)
			}
			if o.Ops != tt.want {
				t.Errorf("Parse(%q).Ops = %+v, want %+v", tt.args, o.Ops, tt.want)
			}
		})
	}
}

func TestParseOpsErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"timeout not a duration", []string{"timeout=30"}, `timeout="30": want a positive duration such as 30s`},
		{"timeout zero", []string{"timeout=0s"}, `timeout="0s": want a positive duration`},
		{"slowlog negative", []string{"slowlog=-1s"}, `slowlog="-1s": want a positive duration`},
		{"jitter negative", []string{"method=prefork", "maxrequests=5", "jitter=-1"}, `jitter="-1": want a whole number of at least 0`},
		{"jitter without maxrequests", []string{"method=prefork", "jitter=5"}, "jitter=5 needs maxrequests="},
		{"jitter with threaded", []string{"maxrequests=5", "jitter=5"}, "jitter= spreads prefork workers' maxrequests; with method=threaded"},
		{"maxrss with threaded", []string{"maxrss=1G"}, "maxrss= recycles prefork workers; with method=threaded"},
		{"maxrss bad unit", []string{"method=prefork", "maxrss=1T"}, `maxrss="1T": want a positive whole number`},
		{"maxrss MB is ambiguous", []string{"method=prefork", "maxrss=1MB"}, `maxrss="1MB": unit "mb"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Parse(tt.args, projectDefaults)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error containing %q", tt.args, o, tt.want)
			}
			if !errors.Is(err, ErrUsage) || !strings.HasPrefix(err.Error(), "runfcgi: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) error %q, want a usage error containing %q", tt.args, err, tt.want)
			}
		})
	}
}

func TestParseOpsEndpoints(t *testing.T) {
	o, err := Parse([]string{"status=/fpm-status", "ping=/fpm-ping", "admin=127.0.0.1:9001"}, projectDefaults)
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != "/fpm-status" || o.Ping != "/fpm-ping" || o.Admin != "127.0.0.1:9001" {
		t.Errorf("Parse = %+v", o.Ops)
	}
	for _, tt := range []struct{ arg, want string }{
		{"status=fpm-status", `status="fpm-status": want a path inside the site such as /status`},
		{"ping=/p?x", `ping="/p?x": want a path`},
		{"admin=9001", `admin="9001": want host:port`},
		{"admin=127.0.0.1:0", `admin="127.0.0.1:0": want host:port`},
		{"admin=127.0.0.1:http", `want host:port`},
	} {
		t.Run(tt.arg, func(t *testing.T) {
			if _, err := Parse([]string{tt.arg}, projectDefaults); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%s) error %v, want %q", tt.arg, err, tt.want)
			}
		})
	}
	if _, err := Parse([]string{"status=/s", "ping=/s"}, projectDefaults); err == nil || !strings.Contains(err.Error(), "are the same path") {
		t.Errorf("status and ping on one path: %v", err)
	}
}

// FuzzParseOps: whatever value an operations key gets, Parse either refuses
// it with a usage error or stores a value that keeps the keys' promises.
func FuzzParseOps(f *testing.F) {
	for _, seed := range [][2]string{
		{"timeout", "30s"}, {"slowlog", "-1s"}, {"jitter", "5"}, {"maxrss", "512M"},
		{"status", "/fpm-status"}, {"ping", "p?x"}, {"admin", "127.0.0.1:9001"}, {"admin", "[::1]:0"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		switch key {
		case "timeout", "slowlog", "jitter", "maxrss", "status", "ping", "admin":
		default:
			return
		}
		args := []string{key + "=" + value, "method=prefork", "maxrequests=10"}
		o, err := Parse(args, projectDefaults)
		if err != nil {
			if !errors.Is(err, ErrUsage) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Parse(%q) error %q: want a one-line usage error", args, err)
			}
			return
		}
		switch {
		case o.Timeout < 0, o.SlowLog < 0, o.Jitter < 0, o.MaxRSS < 0:
			t.Fatalf("Parse(%q) = %+v: negative limit", args, o.Ops)
		case o.Status != "" && !strings.HasPrefix(o.Status, "/"), o.Ping != "" && !strings.HasPrefix(o.Ping, "/"):
			t.Fatalf("Parse(%q) = %+v: a path that is not a path", args, o.Ops)
		}
	})
}

func TestPickActivated(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		names   string
		want    int
		wantErr string
	}{
		{"one socket, any name", 1, "whatever", 3, ""},
		{"one socket, no names", 1, "", 3, ""},
		{"named second", 2, "admin:mysite", 4, ""},
		{"named first", 3, "mysite:a:b", 3, ""},
		{"not named", 2, "a:b", 0, `systemd passed 2 sockets named "a:b"; name the one to serve "mysite"`},
		{"name beyond the count", 2, "a:b:mysite", 0, "name the one to serve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fd, err := pickActivated(tt.n, strings.Split(tt.names, ":"), "mysite")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("pickActivated = %d, %v; want an error containing %q", fd, err, tt.wantErr)
				}
				return
			}
			if err != nil || fd != tt.want {
				t.Fatalf("pickActivated = %d, %v; want fd %d", fd, err, tt.want)
			}
		})
	}
}

// FuzzPickActivated: whatever systemd's variables say, the descriptor
// chosen is one of those passed.
func FuzzPickActivated(f *testing.F) {
	f.Add(1, "x")
	f.Add(2, "admin:mysite")
	f.Add(3, "a:b:mysite")
	f.Add(2, "mysite:mysite")
	f.Fuzz(func(t *testing.T, n int, names string) {
		if n < 1 || n > 1<<16 {
			return
		}
		fd, err := pickActivated(n, strings.Split(names, ":"), "mysite")
		if err == nil && (fd < listenFDsStart || fd >= listenFDsStart+n) {
			t.Fatalf("pickActivated(%d, %q) = fd %d, not one of the %d passed", n, names, fd, n)
		}
	})
}
