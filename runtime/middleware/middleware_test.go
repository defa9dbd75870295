package middleware

import (
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/appgen/appgen/runtime/testsupport/logbuf"
)

func newLog() (*log.Logger, *logbuf.Buffer) {
	buf := &logbuf.Buffer{}
	return log.New(buf, "", 0), buf
}

func tag(name string, trace *[]string) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			*trace = append(*trace, name+" in")
			next.ServeHTTP(w, r)
			*trace = append(*trace, name+" out")
		})
	}
}

func TestChain(t *testing.T) {
	tests := []struct {
		name  string
		mws   func(trace *[]string) []Middleware
		trace string
	}{
		{"none", func(*[]string) []Middleware { return nil }, "h"},
		{"one", func(tr *[]string) []Middleware { return []Middleware{tag("a", tr)} }, "a in,h,a out"},
		{"first is outermost", func(tr *[]string) []Middleware {
			return []Middleware{tag("a", tr), tag("b", tr), tag("c", tr)}
		}, "a in,b in,c in,h,c out,b out,a out"},
		{"nil skipped", func(tr *[]string) []Middleware {
			return []Middleware{nil, tag("a", tr), nil, tag("b", tr)}
		}, "a in,b in,h,b out,a out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var trace []string
			h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { trace = append(trace, "h") })
			Chain(h, tt.mws(&trace)...).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
			if got := strings.Join(trace, ","); got != tt.trace {
				t.Errorf("trace = %s, want %s", got, tt.trace)
			}
		})
	}
}

func TestLogger(t *testing.T) {
	tests := []struct {
		name    string
		target  string
		handler http.HandlerFunc
		line    string // regexp for the whole line
	}{
		{"body", "/hello?x=1", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") },
			`^192\.0\.2\.1:1234 "GET /hello\?x=1 HTTP/1\.1" 200 5 \S+\n$`},
		{"nothing written is 200", "/", func(http.ResponseWriter, *http.Request) {},
			`^192\.0\.2\.1:1234 "GET / HTTP/1\.1" 200 0 \S+\n$`},
		{"status", "/missing", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
			`^192\.0\.2\.1:1234 "GET /missing HTTP/1\.1" 404 19 \S+\n$`},
		{"interim 103 then 204", "/", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusNoContent)
		}, `^192\.0\.2\.1:1234 "GET / HTTP/1\.1" 204 0 \S+\n$`},
		{"quotes escaped", `/a"b`, func(http.ResponseWriter, *http.Request) {},
			`^192\.0\.2\.1:1234 "GET /a\\"b HTTP/1\.1" 200 0 \S+\n$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, buf := newLog()
			Logger(l)(tt.handler).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", tt.target, nil))
			if !regexp.MustCompile(tt.line).MatchString(buf.String()) {
				t.Errorf("log = %q, want it to match %s", buf.String(), tt.line)
			}
		})
	}
}

// TestLoggerNestedLogsOnce pins issue 10's "runfcgi debug=true logs each request twice":
// runfcgi's debug logger wraps a site whose chain has its own Logger, and each request must
// give one line, the inner logger's.
func TestLoggerNestedLogsOnce(t *testing.T) {
	outer, outerBuf := newLog()
	inner, innerBuf := newLog()
	h := Logger(outer)(Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hi")
	}), Logger(inner)))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/once", nil))
	if n := strings.Count(innerBuf.String(), "\n"); n != 1 || !strings.Contains(innerBuf.String(), `"GET /once HTTP/1.1" 200 2 `) {
		t.Errorf("inner log = %q, want one line for GET /once", innerBuf.String())
	}
	if outerBuf.String() != "" {
		t.Errorf("outer log = %q, want nothing: the inner logger logged the request", outerBuf.String())
	}
	// Alone, the outer logger logs.
	Logger(outer)(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/alone", nil))
	if !strings.Contains(outerBuf.String(), `"GET /alone HTTP/1.1" 404`) {
		t.Errorf("outer log = %q, want the request it wrapped alone", outerBuf.String())
	}
}

func TestLoggerPanic(t *testing.T) {
	l, buf := newLog()
	h := Logger(l)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Errorf("panic = %v, want boom to go on through the logger", v)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}()
	if want := `"GET / HTTP/1.1" panic 0 `; !strings.Contains(buf.String(), want) {
		t.Errorf("log = %q, want it to contain %q", buf.String(), want)
	}
}

func TestRecover(t *testing.T) {
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		status    int
		body      string
		logged    string // "" means nothing is logged
		repanic   any    // what comes out of Recover, nil for nothing
		cookieSet bool
	}{
		{"no panic", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") },
			200, "ok", "", nil, false},
		{"panic before writing", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Set-Cookie", "a=b")
			w.Header().Set("Content-Length", "100")
			panic("boom")
		}, 500, "500 Internal Server Error\n", "middleware: panic serving GET /p: boom\n", nil, false},
		{"panic with an error", func(w http.ResponseWriter, r *http.Request) { panic(errors.New("bad")) },
			500, "500 Internal Server Error\n", "middleware: panic serving GET /p: bad\n", nil, false},
		{"panic after writing aborts", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "partial")
			panic("late")
		}, 200, "partial", "middleware: panic serving GET /p: late\n", http.ErrAbortHandler, false},
		{"ErrAbortHandler passes unlogged", func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler)
		}, 200, "", "", http.ErrAbortHandler, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, buf := newLog()
			w := httptest.NewRecorder()
			var out any
			func() {
				defer func() { out = recover() }()
				Recover(l)(tt.handler).ServeHTTP(w, httptest.NewRequest("GET", "/p", nil))
			}()
			if out != tt.repanic {
				t.Errorf("panic out of Recover = %v, want %v", out, tt.repanic)
			}
			if w.Code != tt.status || w.Body.String() != tt.body {
				t.Errorf("response = %d %q, want %d %q", w.Code, w.Body.String(), tt.status, tt.body)
			}
			if got := w.Header().Get("Set-Cookie"); got != "" {
				t.Errorf("Set-Cookie = %q on the error page, want none", got)
			}
			logged := buf.String()
			switch {
			case tt.logged == "" && logged != "":
				t.Errorf("logged %q, want nothing", logged)
			case tt.logged != "" && !strings.HasPrefix(logged, tt.logged):
				t.Errorf("logged %q, want it to start with %q", logged, tt.logged)
			case tt.logged != "" && !strings.Contains(logged, "goroutine "):
				t.Errorf("logged %q, want a stack", logged)
			}
		})
	}
}

// TestRecoverServerGoesOn checks on a real server that a panic costs one request only.
func TestRecoverServerGoesOn(t *testing.T) {
	l, _ := newLog()
	srv := httptest.NewServer(Recover(l)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		io.WriteString(w, "fine")
	})))
	defer srv.Close()
	for i, path := range []string{"/panic", "/", "/panic", "/"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatalf("request %d %s: %v", i, path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := http.StatusOK
		if path == "/panic" {
			want = http.StatusInternalServerError
		}
		if resp.StatusCode != want {
			t.Errorf("request %d %s: status %d (%q), want %d", i, path, resp.StatusCode, body, want)
		}
	}
}

func TestAllowedHosts(t *testing.T) {
	tests := []struct {
		name     string
		host     string
		patterns []string
		want     int
	}{
		{"exact", "example.com", []string{"example.com"}, 200},
		{"port ignored", "example.com:8000", []string{"example.com"}, 200},
		{"case ignored", "EXAMPLE.com", []string{"Example.COM"}, 200},
		{"trailing dot ignored", "example.com.", []string{"example.com"}, 200},
		{"other host", "evil.com", []string{"example.com"}, 400},
		{"suffix is not a subdomain", "notexample.com", []string{"example.com"}, 400},
		{"subdomain pattern", "www.example.com", []string{".example.com"}, 200},
		{"subdomain pattern matches the domain", "example.com", []string{".example.com"}, 200},
		{"subdomain pattern, other domain", "example.org", []string{".example.com"}, 400},
		{"subdomain pattern, lookalike", "badexample.com", []string{".example.com"}, 400},
		{"wildcard", "anything.test", []string{"*"}, 200},
		{"wildcard still needs a valid host", "bad host", []string{"*"}, 400},
		{"ipv4", "127.0.0.1:8000", []string{"127.0.0.1"}, 200},
		{"ipv6", "[::1]:8000", []string{"[::1]"}, 200},
		{"ipv6 without port", "[::1]", []string{"[::1]"}, 200},
		{"empty list rejects all", "localhost", nil, 400},
		{"empty host", "", []string{"*"}, 400},
		{"empty pattern matches nothing", "example.com", []string{""}, 400},
		{"underscore is invalid", "a_b.example.com", []string{"*"}, 400},
		{"userinfo is invalid", "user@example.com", []string{"*"}, 400},
		{"second pattern", "b.test", []string{"a.test", "b.test"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, buf := newLog()
			called := false
			h := AllowedHosts(tt.patterns, l)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
			r := httptest.NewRequest("GET", "/", nil)
			r.Host = tt.host
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("Host %q with %q: status %d, want %d", tt.host, tt.patterns, w.Code, tt.want)
			}
			if called != (tt.want == 200) {
				t.Errorf("handler called = %v, want %v", called, tt.want == 200)
			}
			if tt.want == 400 && !strings.Contains(buf.String(), "invalid Host header") {
				t.Errorf("log = %q, want the rejection logged", buf.String())
			}
		})
	}
}

func TestSplitHost(t *testing.T) {
	tests := []struct {
		host, domain, port string
		ok                 bool
	}{
		{"example.com", "example.com", "", true},
		{"Example.COM:80", "example.com", "80", true},
		{"example.com.:80", "example.com", "80", true},
		{"[::1]:8000", "[::1]", "8000", true},
		{"[2001:DB8::1]", "[2001:db8::1]", "", true},
		{"[::ffff:127.0.0.1]", "[::ffff:127.0.0.1]", "", true},
		{"[]", "", "", false},
		{"[:]", "", "", false},
		{"[::1", "", "", false},
		{"[::1]x", "", "", false},
		{"[::g]", "", "", false},
		{"example.com:", "", "", false},
		{"example.com:8x", "", "", false},
		{"example.com:80:80", "", "", false},
		{":80", "", "", false},
		{".", "", "", false},
		{"\u212aexample.com", "", "", false}, // the Kelvin sign is not "k"
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			domain, port, ok := splitHost(tt.host)
			if domain != tt.domain || port != tt.port || ok != tt.ok {
				t.Errorf("splitHost(%q) = %q, %q, %v; want %q, %q, %v", tt.host, domain, port, ok, tt.domain, tt.port, tt.ok)
			}
		})
	}
}

// djangoHost is Django's host_validation_re, the oracle splitHost must agree with.
var djangoHost = regexp.MustCompile(`^([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9\.:]+\])(:[0-9]+)?$`)

func FuzzSplitHost(f *testing.F) {
	for _, s := range []string{"example.com", "EXAMPLE.com:8000", "[::1]:80", "[::]", "a.", ".", "a:b", "[1:2]:", "x..:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		domain, port, ok := splitHost(host)
		m := djangoHost.FindStringSubmatch(lowerASCII(host))
		wantOK := m != nil && strings.TrimSuffix(m[1], ".") != ""
		if !isASCII(host) {
			wantOK = false
		}
		if ok != wantOK {
			t.Fatalf("splitHost(%q) ok = %v, Django's pattern says %v", host, ok, wantOK)
		}
		if !ok {
			return
		}
		wantDomain := m[1]
		if !strings.HasPrefix(wantDomain, "[") {
			wantDomain = strings.TrimSuffix(wantDomain, ".")
		}
		if domain != wantDomain || port != strings.TrimPrefix(m[2], ":") {
			t.Fatalf("splitHost(%q) = %q, %q; Django's pattern gives %q, %q", host, domain, port, wantDomain, m[2])
		}
		if !hostAllowed(domain, []string{"*"}) || !hostAllowed(domain, []string{domain}) {
			t.Fatalf("domain %q not allowed by * or by itself", domain)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
