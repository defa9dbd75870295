package manage

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/appgen/appgen/runtime/testsupport/logbuf"
)

func hello() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
}

func TestCommands(t *testing.T) {
	twoProblems := func() []error {
		return []error{errors.New("settings: Debug is on in production"), errors.New("settings: SecretKey is empty")}
	}
	tests := []struct {
		name   string
		args   []string
		site   Site
		status int
		stdout string // substrings, "|"-separated
		stderr string // substrings, "|"-separated; "" means stderr must be empty
	}{
		{"no arguments prints usage", nil, Site{}, ExitOK,
			"Usage: mysite COMMAND [ARGUMENTS]|runserver [--noreload] [--admin ADDR] [ADDR]|runfcgi [KEY=VALUE ...]|check [--deploy]|help [COMMAND]", ""},
		{"help", []string{"help"}, Site{Profile: "production"}, ExitOK,
			`Usage: mysite COMMAND|APPGEN_SETTINGS selects the settings profile (now "production")`, ""},
		{"--help", []string{"--help"}, Site{}, ExitOK, "Usage: mysite COMMAND", ""},
		{"help runserver", []string{"help", "runserver"}, Site{}, ExitOK,
			"Usage: mysite runserver [--noreload] [--admin ADDR] [ADDR]|default 127.0.0.1:8000|SIGINT|--noreload serves", ""},
		{"help check", []string{"help", "check"}, Site{}, ExitOK, "Usage: mysite check [--deploy]|status 1|--deploy also checks", ""},
		{"help runfcgi", []string{"help", "runfcgi"}, Site{}, ExitOK, "protocol", ""},
		{"help unknown", []string{"help", "migrate"}, Site{}, ExitUsage, "",
			`mysite: help: unknown command "migrate"|Usage: mysite COMMAND`},
		{"help two names", []string{"help", "check", "runserver"}, Site{}, ExitUsage, "", "help: too many arguments"},
		{"unknown command", []string{"migrate"}, Site{}, ExitUsage, "",
			`mysite: unknown command "migrate"|Usage: mysite COMMAND`},
		{"check, no checks", []string{"check"}, Site{}, ExitOK, "System check identified no issues.", ""},
		{"check passes", []string{"check"}, Site{Check: func() []error { return nil }}, ExitOK,
			"System check identified no issues.", ""},
		{"check fails", []string{"check"}, Site{Check: twoProblems}, ExitError, "",
			"System check identified some issues:\n  settings: Debug is on in production\n  settings: SecretKey is empty\nSystem check identified 2 issues.\n"},
		{"check, one problem", []string{"check"}, Site{Check: func() []error { return twoProblems()[:1] }}, ExitError, "",
			"System check identified 1 issue."},
		{"check takes only --deploy", []string{"check", "--force"}, Site{}, ExitUsage, "",
			`mysite: check: unexpected argument "--force"; check takes only --deploy`},
		{"runserver bad address", []string{"runserver", "localhost"}, Site{}, ExitUsage, "",
			`mysite: runserver: address "localhost": want PORT or HOST:PORT`},
		{"runserver too many arguments", []string{"runserver", "8000", "9000"}, Site{}, ExitUsage, "",
			"runserver: too many arguments"},
		{"runserver --admin without an address", []string{"runserver", "--noreload", "--admin"}, Site{}, ExitUsage, "",
			"mysite: runserver: --admin wants an address, HOST:PORT such as 127.0.0.1:9001"},
		{"runserver --admin bad address", []string{"runserver", "--noreload", "--admin=:9001"}, Site{}, ExitUsage, "",
			`mysite: runserver: --admin address ":9001" has no host`},
		{"runserver --admin needs --noreload", []string{"runserver", "--admin", "127.0.0.1:9001"}, Site{}, ExitUsage, "",
			"mysite: runserver: --admin 127.0.0.1:9001 needs --noreload"},
		{"runserver help", []string{"runserver", "--help"}, Site{}, ExitOK, "Usage: mysite runserver", ""},
		{"runfcgi bad option", []string{"runfcgi", "nope=1"}, Site{}, ExitUsage, "", "runfcgi: "},
		{"runfcgi help", []string{"runfcgi", "help"}, Site{}, ExitOK, "method", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr logbuf.Buffer
			site := tt.site
			site.Name, site.Handler, site.Stdout, site.Stderr = "mysite", hello(), &stdout, &stderr
			if got := Main(tt.args, site); got != tt.status {
				t.Errorf("Main(%q) = %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, got, tt.status, stdout.String(), stderr.String())
			}
			checkOutput(t, "stdout", stdout.String(), tt.stdout)
			checkOutput(t, "stderr", stderr.String(), tt.stderr)
		})
	}
}

func checkOutput(t *testing.T, name, got, want string) {
	t.Helper()
	if want == "" {
		if got != "" {
			t.Errorf("%s = %q, want nothing", name, got)
		}
		return
	}
	for _, part := range strings.Split(want, "|") {
		if !strings.Contains(got, part) {
			t.Errorf("%s = %q, want it to contain %q", name, got, part)
		}
	}
}

func TestNilHandler(t *testing.T) {
	var stderr logbuf.Buffer
	if got := Main([]string{"check"}, Site{Name: "mysite", Stderr: &stderr, Stdout: io.Discard}); got != ExitError {
		t.Errorf("Main with a nil Handler = %d, want %d", got, ExitError)
	}
	if want := "mysite: manage: Site.Handler is nil"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr = %q, want %q", stderr.String(), want)
	}
}

func TestParseAddr(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"8000", "127.0.0.1:8000", ""},
		{"0", "127.0.0.1:0", ""},
		{"127.0.0.1:9000", "127.0.0.1:9000", ""},
		{"0:8000", "0.0.0.0:8000", ""},
		{"0.0.0.0:80", "0.0.0.0:80", ""},
		{"localhost:8000", "localhost:8000", ""},
		{"[::1]:8000", "[::1]:8000", ""},
		{"[fe80::1%eth0]:8000", "[fe80::1%eth0]:8000", ""},
		{"007", "127.0.0.1:7", ""},
		{"", "", `address "": want PORT or HOST:PORT`},
		{"localhost", "", `address "localhost": want PORT or HOST:PORT`},
		{"::1", "", `address "::1": want PORT or HOST:PORT`},
		{":8000", "", `address ":8000" has no host`},
		{"65536", "", `port "65536" in address "65536": want a number from 0 to 65535`},
		{"99999999999999999999", "", `port "99999999999999999999"`},
		{"host:http", "", `port "http" in address "host:http"`},
		{"host:-1", "", `port "-1"`},
		{"host:+80", "", `port "+80"`},
		{"a b:80", "", `host "a b" in address "a b:80"`},
		{"a/b:80", "", `host "a/b"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseAddr(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "runserver: ") {
					t.Fatalf("parseAddr(%q) = %q, %v; want an error containing %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseAddr(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"8000", "0:8000", "[::1]:80", ":80", "a b:1", "host:65536", "[fe80::1%lo]:0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		addr, err := parseAddr(s)
		if err != nil {
			return
		}
		// What parseAddr accepts is a well-formed address, and one it would accept again unchanged.
		again, err := parseAddr(addr)
		if err != nil || again != addr {
			t.Fatalf("parseAddr(%q) = %q, which parses again as %q, %v", s, addr, again, err)
		}
	})
}
