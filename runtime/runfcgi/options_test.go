package runfcgi

import (
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

var projectDefaults = Defaults{Protocol: "fcgi", Host: "127.0.0.1", Port: 3033}

// base is what Parse returns for no arguments with projectDefaults.
func base() Options {
	return Options{
		Protocol: "fcgi", Host: "127.0.0.1", Port: 3033, DefaultAddress: true,
		Method: "threaded", MaxSpare: 5, MinSpare: 2, MaxChildren: 50, Umask: -1, SocketMode: 0o660,
	}
}

func TestParse(t *testing.T) {
	cores := runtime.GOMAXPROCS(0)
	long := "/tmp/" + strings.Repeat("s", maxSocketPath())
	tests := []struct {
		name string
		args []string
		d    Defaults
		want func(o *Options)
	}{
		{"no arguments: Django's defaults, the project's address, foreground", nil, projectDefaults, func(o *Options) {}},
		{"protocol scgi", []string{"protocol=scgi"}, projectDefaults, func(o *Options) { o.Protocol = "scgi" }},
		{"protocol ajp on the default loopback address", []string{"protocol=ajp"}, projectDefaults, func(o *Options) { o.Protocol = "ajp" }},
		{"project protocol scgi", nil, Defaults{Protocol: "scgi", Host: "127.0.0.1", Port: 1}, func(o *Options) { o.Protocol, o.Port = "scgi", 1 }},
		{"project protocol http stays fcgi", nil, Defaults{Protocol: "http", Host: "127.0.0.1", Port: 3033}, func(o *Options) {}},
		{"project socket replaces host and port", nil, Defaults{Host: "127.0.0.1", Port: 3033, Socket: "/run/mysite.sock"}, func(o *Options) {
			o.Host, o.Port, o.Socket = "", 0, "/run/mysite.sock"
		}},
		{"host and port daemonize", []string{"host=127.0.0.1", "port=8025"}, projectDefaults, func(o *Options) {
			o.Port, o.DefaultAddress, o.Daemonize = 8025, false, true
		}},
		{"bracketed IPv6 host", []string{"host=[::1]", "port=8025"}, projectDefaults, func(o *Options) {
			o.Host, o.Port, o.DefaultAddress, o.Daemonize = "::1", 8025, false, true
		}},
		{"socket daemonizes", []string{"socket=/tmp/fcgi.sock"}, projectDefaults, func(o *Options) {
			o.Host, o.Port, o.Socket, o.DefaultAddress, o.Daemonize = "", 0, "/tmp/fcgi.sock", false, true
		}},
		{"socket with daemonize=false", []string{"socket=/tmp/fcgi.sock", "daemonize=false"}, projectDefaults, func(o *Options) {
			o.Host, o.Port, o.Socket, o.DefaultAddress = "", 0, "/tmp/fcgi.sock", false
		}},
		{"daemonize=true without an address", []string{"daemonize=true"}, projectDefaults, func(o *Options) { o.Daemonize = true }},
		{"daemonize yes", []string{"daemonize=yes"}, projectDefaults, func(o *Options) { o.Daemonize = true }},
		{"daemonize T", []string{"daemonize=T"}, projectDefaults, func(o *Options) { o.Daemonize = true }},
		{"daemonize no", []string{"socket=/s", "daemonize=no"}, projectDefaults, func(o *Options) {
			o.Host, o.Port, o.Socket, o.DefaultAddress = "", 0, "/s", false
		}},
		{"daemonize f", []string{"host=localhost", "port=1", "daemonize=f"}, projectDefaults, func(o *Options) {
			o.Host, o.Port, o.DefaultAddress = "localhost", 1, false
		}},
		{"method fork is prefork, workers follow the cores", []string{"method=fork"}, projectDefaults, func(o *Options) {
			o.Method, o.MinSpare, o.MaxSpare, o.MaxChildren = "prefork", cores, cores, 2*cores
		}},
		{"method prefork keeps given counts", []string{"method=prefork", "minspare=2", "maxspare=5", "maxchildren=50"}, projectDefaults, func(o *Options) {
			o.Method = "prefork"
		}},
		{"method prefork with only maxchildren", []string{"method=prefork", "maxchildren=1"}, projectDefaults, func(o *Options) {
			o.Method, o.MinSpare, o.MaxSpare, o.MaxChildren = "prefork", 1, 1, 1
		}},
		{"method threaded", []string{"method=threaded"}, projectDefaults, func(o *Options) {}},
		{"method thread is threaded", []string{"method=thread"}, projectDefaults, func(o *Options) {}},
		{"pool sizes", []string{"maxrequests=100", "maxspare=10", "minspare=0", "maxchildren=10"}, projectDefaults, func(o *Options) {
			o.MaxRequests, o.MaxSpare, o.MinSpare, o.MaxChildren = 100, 10, 0, 10
		}},
		{"minspare equal to maxspare equal to maxchildren", []string{"minspare=1", "maxspare=1", "maxchildren=1"}, projectDefaults, func(o *Options) {
			o.MinSpare, o.MaxSpare, o.MaxChildren = 1, 1, 1
		}},
		{"daemon files", []string{"pidfile=django.pid", "workdir=/srv", "umask=002", "outlog=o.log", "errlog=e.log"}, projectDefaults, func(o *Options) {
			o.PIDFile, o.WorkDir, o.Umask, o.OutLog, o.ErrLog = "django.pid", "/srv", 0o002, "o.log", "e.log"
		}},
		{"umask 0", []string{"umask=0"}, projectDefaults, func(o *Options) { o.Umask = 0 }},
		{"debug true", []string{"debug=true"}, projectDefaults, func(o *Options) { o.Debug = true }},
		{"debug false stays off", []string{"debug=false"}, projectDefaults, func(o *Options) {}},
		{"ajp secret", []string{"protocol=ajp", "secret=s3cret", "host=192.0.2.1", "port=8009"}, projectDefaults, func(o *Options) {
			o.Protocol, o.Secret, o.Host, o.Port, o.DefaultAddress, o.Daemonize = "ajp", "s3cret", "192.0.2.1", 8009, false, true
		}},
		{"ajp on loopback needs no secret", []string{"protocol=ajp", "host=::1", "port=8009"}, projectDefaults, func(o *Options) {
			o.Protocol, o.Host, o.Port, o.DefaultAddress, o.Daemonize = "ajp", "::1", 8009, false, true
		}},
		{"socket mode and group", []string{"socket=/s", "socket_mode=0600", "socket_group=www-data"}, projectDefaults, func(o *Options) {
			o.Host, o.Port, o.Socket, o.DefaultAddress, o.Daemonize, o.SocketMode, o.SocketGroup = "", 0, "/s", false, true, 0o600, "www-data"
		}},
		{"ajp secret file", []string{"protocol=ajp", "secret_file=/etc/s"}, projectDefaults, func(o *Options) {
			o.Protocol, o.SecretFile = "ajp", "/etc/s"
		}},
		{"ajp on a unix socket needs no secret", []string{"protocol=ajp", "socket=/s"}, projectDefaults, func(o *Options) {
			o.Protocol, o.Host, o.Port, o.Socket, o.DefaultAddress, o.Daemonize = "ajp", "", 0, "/s", false, true
		}},
		{"watch", []string{"watch=mysite.fcgi"}, projectDefaults, func(o *Options) { o.Watch = "mysite.fcgi" }},
		{"keys are not case sensitive", []string{"METHOD=threaded", "Port=9000", "HOST=127.0.0.1"}, projectDefaults, func(o *Options) {
			o.Method, o.Port, o.DefaultAddress, o.Daemonize = "threaded", 9000, false, true
		}},
		{"empty values are left out, as in Django", []string{"host=", "port=", "socket=", "pidfile=", "umask=", "outlog=", "errlog=", "secret=", "secret_file=", "socket_group=", "watch="}, projectDefaults, func(o *Options) {}},
		{"empty socket with host and port", []string{"socket=", "host=127.0.0.1", "port=80"}, projectDefaults, func(o *Options) {
			o.Port, o.DefaultAddress, o.Daemonize = 80, false, true
		}},
		{"values keep their equals signs", []string{"secret=a=b"}, Defaults{Protocol: "ajp", Host: "127.0.0.1", Port: 8009}, func(o *Options) {
			o.Protocol, o.Port, o.Secret = "ajp", 8009, "a=b"
		}},
		{"longest socket path", []string{"socket=" + long[:maxSocketPath()-1]}, projectDefaults, func(o *Options) {
			o.Host, o.Port, o.Socket, o.DefaultAddress, o.Daemonize = "", 0, long[:maxSocketPath()-1], false, true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.args, tt.d)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.args, err)
			}
			want := base()
			if tt.d != projectDefaults {
				want.Host, want.Port, want.Socket = tt.d.Host, tt.d.Port, tt.d.Socket
			}
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.args, got, want)
			}
		})
	}
}

func TestParseHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"HELP"}, {"help=1"}, {"method=threaded", "help"}, {"host=x", "help"}, {"bogus=1", "help"}, {"port=x", "port=y", "Help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			o, err := Parse(args, projectDefaults)
			if err != nil || !o.Help {
				t.Fatalf("Parse(%q) = Help %v, %v; want Help true", args, o.Help, err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	long := "/tmp/" + strings.Repeat("s", maxSocketPath())
	tests := []struct {
		name string
		args []string
		want string // a fragment of the message
	}{
		{"unknown key", []string{"prot=fcgi"}, `unknown key "prot"`},
		{"unknown key lists the keys", []string{"bogus=1"}, "keys: protocol, host, port"},
		{"missing equals", []string{"threaded"}, `argument "threaded" is not key=value`},
		{"debug needs a value", []string{"debug"}, `argument "debug" is not key=value`},
		{"repeated key", []string{"port=1", "host=h", "port=2"}, `key "port" given twice`},
		{"repeated key in other case", []string{"method=threaded", "METHOD=prefork"}, `key "method" given twice`},
		{"bad protocol", []string{"protocol=http"}, `protocol="http": want fcgi, scgi or ajp`},
		{"bad method", []string{"method=async"}, `method="async": want prefork, fork, threaded or thread`},
		{"port not a number", []string{"host=h", "port=http"}, `port="http": want a number from 1 to 65535`},
		{"port zero", []string{"host=h", "port=0"}, "want a number from 1 to 65535"},
		{"port too large", []string{"host=h", "port=65536"}, "want a number from 1 to 65535"},
		{"maxrequests negative", []string{"maxrequests=-1"}, `maxrequests="-1": want a whole number of at least 0`},
		{"maxspare zero", []string{"maxspare=0"}, `maxspare="0": want a whole number of at least 1`},
		{"minspare not a number", []string{"minspare=two"}, `minspare="two"`},
		{"maxchildren zero", []string{"maxchildren=0"}, `maxchildren="0": want a whole number of at least 1`},
		{"maxchildren empty", []string{"maxchildren="}, `maxchildren="": want a whole number`},
		{"minspare above maxspare", []string{"minspare=6"}, "minspare=6 is more than maxspare=5"},
		{"maxspare above maxchildren", []string{"maxchildren=4"}, "maxspare=5 is more than maxchildren=4"},
		{"bad daemonize", []string{"daemonize=maybe"}, `daemonize="maybe": want true, yes, t, false, no or f`},
		{"bad debug", []string{"debug=1"}, `debug="1": want true`},
		{"umask not octal", []string{"umask=089"}, `umask="089": want an octal number`},
		{"umask too large", []string{"umask=1000"}, `umask="1000": want an octal number from 0 to 777`},
		{"empty workdir", []string{"workdir="}, "workdir=: want a directory"},
		{"host without port", []string{"host=127.0.0.1"}, "invalid combination of host, port, socket"},
		{"port without host", []string{"port=3033"}, "invalid combination of host, port, socket"},
		{"socket and host", []string{"socket=/s", "host=127.0.0.1"}, "invalid combination of host, port, socket"},
		{"socket and port", []string{"socket=/s", "port=1"}, "invalid combination of host, port, socket"},
		{"socket, host and port", []string{"socket=/s", "host=h", "port=1"}, "invalid combination of host, port, socket"},
		{"host with a slash", []string{"host=a/b", "port=1"}, `host="a/b": want a host name or an IP address`},
		{"socket path too long", []string{"socket=" + long}, "a unix socket path may have at most"},
		{"secret without ajp", []string{"secret=x"}, "secret= is only used with protocol=ajp, not protocol=fcgi"},
		{"secret_file without ajp", []string{"secret_file=/s"}, "secret_file= is only used with protocol=ajp, not protocol=fcgi"},
		{"socket_mode not octal", []string{"socket_mode=rw"}, `socket_mode="rw": want an octal mode`},
		{"socket_mode too large", []string{"socket_mode=1777"}, `socket_mode="1777": want an octal mode from 0 to 777`},
		{"socket_mode the owner cannot write", []string{"socket_mode=0440"}, `socket_mode="0440": the owner needs write permission`},
		{"socket_mode on TCP", []string{"host=127.0.0.1", "port=1", "socket_mode=0600"}, "socket_mode= applies to a unix socket"},
		{"socket_group on TCP", []string{"host=127.0.0.1", "port=1", "socket_group=www-data"}, "socket_group= applies to a unix socket"},
		{"socket_group with a colon", []string{"socket_group=a:b"}, `socket_group="a:b": want a group name or number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Parse(tt.args, projectDefaults)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error containing %q", tt.args, o, tt.want)
			}
			if !errors.Is(err, ErrUsage) {
				t.Errorf("Parse(%q) error %v does not wrap ErrUsage", tt.args, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "runfcgi: ") || !strings.Contains(msg, tt.want) {
				t.Errorf("Parse(%q) error\n got %q\nwant runfcgi: ...%s...", tt.args, msg, tt.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("Parse(%q) error spans lines: %q", tt.args, msg)
			}
		})
	}
}

// TestUsageNamesEveryKey pins that help documents each key Parse accepts.
func TestUsageNamesEveryKey(t *testing.T) {
	u := Usage()
	for _, k := range keyNames {
		if k == "help" {
			continue
		}
		if !strings.Contains(u, "  "+k+"=") {
			t.Errorf("Usage() does not document %s=", k)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"", "help", "protocol=scgi method=prefork host=127.0.0.1 port=8025",
		"socket=/tmp/fcgi.sock method=prefork daemonize=true pidfile=/var/run/django-fcgi.pid",
		"daemonize=false socket=/tmp/mysite.sock maxrequests=1", "umask=0002", "port=99999",
		"minspare=9 maxspare=3", "protocol=ajp host=0.0.0.0 port=8009 secret=x", "a", "=", "host=[",
		"socket=/run/s/s.sock socket_mode=0660 socket_group=www-data", "protocol=ajp secret_file=/etc/s", "socket_mode=0440",
		"backlog=0 maxconns=10 maxinflight=20 maxmpx=5", "maxheader=64K maxbody=1M bodybuffer=2M", "minbodyrate=0 idletimeout=1m",
		"protocol=scgi maxspill=1G tempdir=/tmp", "method=prefork backlog=5", "maxheader=9999999999G",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		o, err := Parse(args, projectDefaults)
		if err != nil {
			if !errors.Is(err, ErrUsage) || !strings.HasPrefix(err.Error(), "runfcgi: ") {
				t.Fatalf("Parse(%q): error %q is not a runfcgi usage error", args, err)
			}
			return
		}
		if o.Help {
			return
		}
		if o.MinSpare > o.MaxSpare || o.MaxSpare > o.MaxChildren || o.MaxRequests < 0 {
			t.Fatalf("Parse(%q) accepted inconsistent sizes %+v", args, o)
		}
		if o.Socket != "" && (o.Host != "" || o.Port != 0) {
			t.Fatalf("Parse(%q) accepted both a socket and a TCP address: %+v", args, o)
		}
		if o.Protocol != "fcgi" && o.Protocol != "scgi" && o.Protocol != "ajp" {
			t.Fatalf("Parse(%q) accepted protocol %q", args, o.Protocol)
		}
		if o.Method != "prefork" && o.Method != "threaded" {
			t.Fatalf("Parse(%q) accepted method %q", args, o.Method)
		}
		if o.SocketMode > 0o777 || o.SocketMode&0o200 == 0 {
			t.Fatalf("Parse(%q) accepted socket_mode %o", args, o.SocketMode)
		}
		if o.Umask > 0o777 {
			t.Fatalf("Parse(%q) accepted umask %o", args, o.Umask)
		}
		// A limit is its server's default (0), or a value the server takes
		// as given: positive, or -1 where that means none.
		l := o.Limits
		for name, v := range map[string]int64{"backlog": int64(l.Backlog), "minbodyrate": int64(l.MinBodyRate)} {
			if v < -1 {
				t.Fatalf("Parse(%q) accepted %s %d", args, name, v)
			}
		}
		for name, v := range map[string]int64{"maxconns": int64(l.MaxConns), "maxinflight": int64(l.MaxInFlight),
			"maxmpx": int64(l.MaxMPX), "maxheader": int64(l.MaxHeader), "maxbody": l.MaxBody, "bodybuffer": l.BodyBuffer,
			"maxspill": l.MaxSpill, "headertimeout": int64(l.HeaderTimeout), "readtimeout": int64(l.ReadTimeout),
			"writetimeout": int64(l.WriteTimeout), "idletimeout": int64(l.IdleTimeout)} {
			if v < 0 {
				t.Fatalf("Parse(%q) accepted %s %d", args, name, v)
			}
		}
		if o.Protocol != "fcgi" && (l.MaxMPX != 0 || l.BodyBuffer != 0 || l.MaxSpill != 0 || l.TempDir != "") {
			t.Fatalf("Parse(%q) accepted a FastCGI limit for protocol %s: %+v", args, o.Protocol, l)
		}
		if o.Method == "prefork" && l.Backlog != 0 {
			t.Fatalf("Parse(%q) accepted backlog with prefork", args)
		}
	})
}
