package scgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/appgen/appgen/runtime/gateway"
	"github.com/appgen/appgen/runtime/testsupport/logbuf"
	"github.com/appgen/appgen/runtime/testsupport/pipenet"
)

func start(t *testing.T, srv *Server) (*pipenet.Listener, *logbuf.Buffer) {
	t.Helper()
	logs := &logbuf.Buffer{}
	srv.ErrorLog = log.New(logs, "", 0)
	l := pipenet.Listen(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != http.ErrServerClosed {
			t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
		}
	})
	return l, logs
}

// exchange sends raw bytes on a new connection and returns everything the
// server wrote before closing it.
func exchange(t *testing.T, l *pipenet.Listener, in string) string {
	t.Helper()
	c, err := l.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		// The server may close before reading everything, as it may over TCP.
		c.Write([]byte(in))
	}()
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// sendAndClose sends raw bytes on a new connection and closes it, as a web
// server whose client went away does.
func sendAndClose(t *testing.T, l *pipenet.Listener, in string) {
	t.Helper()
	c, err := l.Dial()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		c.Write([]byte(in))
		c.Close()
	}()
}

// request is the header nginx's scgi_params would send for method and uri.
func request(method, uri string, body string, extra ...string) string {
	path, query, _ := strings.Cut(uri, "?")
	pairs := []string{
		"CONTENT_LENGTH", itoa(len(body)), "SCGI", "1", "REQUEST_METHOD", method, "REQUEST_URI", uri,
		"QUERY_STRING", query, "DOCUMENT_URI", path, "SERVER_PROTOCOL", "HTTP/1.1", "REMOTE_ADDR", "192.0.2.7",
		"REMOTE_PORT", "51234", "SERVER_NAME", "example.org", "SERVER_PORT", "80", "HTTP_HOST", "example.org",
	}
	return netstring(append(pairs, extra...)...) + body
}

func itoa(n int) string { return strconv.Itoa(n) }

// parseCGI splits a CGI response into status, header and body.
func parseCGI(t *testing.T, out string) (int, http.Header, string) {
	t.Helper()
	head, body, ok := strings.Cut(out, "\r\n\r\n")
	if !ok {
		t.Fatalf("response %q has no blank line", out)
	}
	h := http.Header{}
	status := 0
	for _, line := range strings.Split(head, "\r\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("header line %q", line)
		}
		if k == "Status" {
			for _, c := range v[:3] {
				status = status*10 + int(c-'0')
			}
			continue
		}
		h.Add(k, v)
	}
	return status, h, body
}

func TestServe(t *testing.T) {
	prefix := "/site"
	type seen struct {
		method, path, query, requestURI, host, remoteAddr, scriptName, body string
		tls                                                                 bool
		bodyErr                                                             bool
	}
	tests := []struct {
		name   string
		srv    *Server
		in     string
		want   seen
		status int
		body   string
	}{
		{
			name:   "GET with a query",
			in:     request("GET", "/a/b?x=1", ""),
			want:   seen{method: "GET", path: "/a/b", query: "x=1", requestURI: "/a/b?x=1", host: "example.org", remoteAddr: "192.0.2.7:51234"},
			status: 200, body: "hello",
		},
		{
			name:   "POST body of CONTENT_LENGTH, the rest ignored",
			in:     request("POST", "/p", "abcdef") + "ghi",
			want:   seen{method: "POST", path: "/p", requestURI: "/p", host: "example.org", remoteAddr: "192.0.2.7:51234", body: "abcdef"},
			status: 200, body: "hello",
		},
		{
			name:   "SCRIPT_NAME, PATH_INFO and HTTPS",
			in:     request("GET", "/app/x/y", "", "SCRIPT_NAME", "/app", "PATH_INFO", "/x/y", "HTTPS", "on"),
			want:   seen{method: "GET", path: "/x/y", requestURI: "/app/x/y", host: "example.org", remoteAddr: "192.0.2.7:51234", scriptName: "/app", tls: true},
			status: 200, body: "hello",
		},
		{
			name:   "ForceScriptName",
			srv:    &Server{ForceScriptName: &prefix},
			in:     request("GET", "/site/x", "", "SCRIPT_NAME", "/ignored"),
			want:   seen{method: "GET", path: "/x", requestURI: "/site/x", host: "example.org", remoteAddr: "192.0.2.7:51234", scriptName: "/site"},
			status: 200, body: "hello",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got seen
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, err := io.ReadAll(r.Body)
				got = seen{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, requestURI: r.RequestURI, host: r.Host,
					remoteAddr: r.RemoteAddr, scriptName: gateway.ScriptName(r), body: string(b), tls: r.TLS != nil, bodyErr: err != nil}
				if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("body error %v, want io.ErrUnexpectedEOF", err)
				}
				io.WriteString(w, "hello")
			})
			srv := tt.srv
			if srv == nil {
				srv = &Server{}
			}
			srv.Handler = h
			l, logs := start(t, srv)
			out := exchange(t, l, tt.in)
			status, header, body := parseCGI(t, out)
			if status != tt.status || body != tt.body || header.Get("Content-Length") != itoa(len(tt.body)) {
				t.Errorf("response %q, want status %d and body %q with its length", out, tt.status, tt.body)
			}
			if got != tt.want {
				t.Errorf("handler saw\n %+v\nwant\n %+v", got, tt.want)
			}
			if lines := logs.Lines(); len(lines) != 0 {
				t.Errorf("logged %q", lines)
			}
		})
	}
}

func TestMalformedHeaderClosesConnection(t *testing.T) {
	tests := []struct {
		name, in, log string
	}{
		{"leading zero", "0012:CONTENT_LENGTH\x000\x00,", `scgi: 192.0.2.1:4242: netstring length "0012" has a leading zero`},
		{"over MaxHeaderBytes", "70000:", "scgi: 192.0.2.1:4242: netstring length 70000 exceeds limit 65536"},
		{"no SCGI", netstring("CONTENT_LENGTH", "0", "REQUEST_METHOD", "GET"), "scgi: 192.0.2.1:4242: header SCGI is missing, want SCGI=1"},
		{"duplicate", netstring("CONTENT_LENGTH", "0", "SCGI", "1", "SCGI", "1"), `scgi: 192.0.2.1:4242: header "SCGI" appears twice`},
		{"no method", netstring("CONTENT_LENGTH", "0", "SCGI", "1"), `scgi: 192.0.2.1:4242: bad REQUEST_METHOD "": want a method such as GET`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			l, logs := start(t, &Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })})
			out := exchange(t, l, tt.in)
			if lines := logs.Wait(1); len(lines) != 1 || lines[0] != tt.log {
				t.Errorf("log %q, want one line %q", lines, tt.log)
			}
			if called {
				t.Error("handler called")
			}
			if tt.name == "no method" {
				if status, _, _ := parseCGI(t, out); status != 400 {
					t.Errorf("response %q, want 400", out)
				}
			} else if out != "" {
				t.Errorf("response %q to a malformed header, want the connection closed", out)
			}
		})
	}
}

func TestTruncatedInput(t *testing.T) {
	t.Run("header", func(t *testing.T) {
		l, logs := start(t, &Server{Handler: http.NotFoundHandler()})
		sendAndClose(t, l, "40:CONTENT")
		want := "scgi: 192.0.2.1:4242: connection closed inside a 40-byte header: unexpected EOF"
		if lines := logs.Wait(1); len(lines) != 1 || lines[0] != want {
			t.Errorf("log %q, want %q", lines, want)
		}
	})
	t.Run("body", func(t *testing.T) {
		got := make(chan error, 1)
		l, _ := start(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, err := io.ReadAll(r.Body)
			if string(b) != "abc" {
				t.Errorf("body %q, want the 3 bytes sent", b)
			}
			got <- err
		})})
		sendAndClose(t, l, strings.TrimSuffix(request("POST", "/p", "abcdef"), "def"))
		if err := <-got; !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "3 bytes short") {
			t.Errorf("body error %v, want io.ErrUnexpectedEOF saying 3 bytes short", err)
		}
	})
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name   string
		srv    *Server
		in     string
		status int
		called bool
	}{
		{"body over MaxBodyBytes", &Server{MaxBodyBytes: 5}, request("POST", "/", "abcdef"), 413, false},
		{"body at MaxBodyBytes", &Server{MaxBodyBytes: 6}, request("POST", "/", "abcdef"), 200, true},
		{"pool refuses", &Server{Pool: refusingPool{}}, request("GET", "/", ""), 503, false},
		{"pool runs", &Server{Pool: goPool{}}, request("GET", "/", ""), 200, true},
		{"MaxRequests reached", &Server{MaxRequests: 1}, request("GET", "/", ""), 503, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			entered, blocked := make(chan struct{}), make(chan struct{})
			tt.srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/block" {
					close(entered)
					<-blocked
					return
				}
				called = true
			})
			l, _ := start(t, tt.srv)
			if tt.srv.MaxRequests == 1 {
				// Hold the only slot with a request that waits.
				c, _ := l.Dial()
				defer c.Close()
				go c.Write([]byte(request("GET", "/block", "")))
				<-entered
				defer close(blocked)
			}
			out := exchange(t, l, tt.in)
			if status, _, _ := parseCGI(t, out); status != tt.status || called != tt.called {
				t.Errorf("response %q, handler called %v; want %d, %v", out, called, tt.status, tt.called)
			}
		})
	}
}

type refusingPool struct{}

func (refusingPool) Go(func()) bool { return false }

type goPool struct{}

func (goPool) Go(f func()) bool { go f(); return true }

func TestHandlerPanic(t *testing.T) {
	tests := []struct {
		name   string
		h      http.HandlerFunc
		want   string // the response, exactly
		logged bool
	}{
		{
			name:   "before writing",
			h:      func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Gone", "1"); panic("boom") },
			want:   "Status: 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nContent-Length: 22\r\n\r\nInternal Server Error\n",
			logged: true,
		},
		{
			name: "after a flush",
			h: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "partial")
				w.(http.Flusher).Flush()
				panic("boom")
			},
			want:   "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\r\npartial",
			logged: true,
		},
		{
			name: "ErrAbortHandler",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.(http.Flusher).Flush()
				panic(http.ErrAbortHandler)
			},
			want: "Status: 200 OK\r\n\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, logs := start(t, &Server{Handler: tt.h})
			out := exchange(t, l, request("GET", "/", ""))
			// Compared parsed: header order is a map's.
			gs, gh, gb := parseCGI(t, out)
			ws, wh, wb := parseCGI(t, tt.want)
			if gs != ws || gb != wb || fmt.Sprint(gh) != fmt.Sprint(wh) {
				t.Errorf("response\n %q\nwant\n %q", out, tt.want)
			}
			lines := logs.Lines()
			if tt.logged && (len(lines) == 0 || !strings.HasPrefix(lines[0], "scgi: 192.0.2.1:4242: panic serving GET /: boom")) {
				t.Errorf("log %q, want the panic about the peer", lines)
			}
			if !tt.logged && len(lines) != 0 {
				t.Errorf("log %q, want nothing", lines)
			}
		})
	}
}

func TestShutdown(t *testing.T) {
	// A request under way is finished before Shutdown returns; a
	// connection that never sends anything waits out serve's grace period,
	// which is serve's to test.
	entered, release := make(chan struct{}), make(chan struct{})
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	})}
	l := pipenet.Listen(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	c, err := l.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go c.Write([]byte(request("GET", "/", "")))
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	if err := <-served; err != http.ErrServerClosed {
		t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
	}
	close(release)
	out, _ := io.ReadAll(c)
	if status, _, body := parseCGI(t, string(out)); status != 200 || body != "done" {
		t.Errorf("in-flight request: %q", out)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := l.Dial(); err == nil {
		t.Error("listener still accepting after Shutdown")
	}
}

func TestServeWithoutHandler(t *testing.T) {
	if err := (&Server{}).Serve(pipenet.Listen(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000})); err == nil || !strings.Contains(err.Error(), "Handler is nil") {
		t.Errorf("Serve returned %v", err)
	}
}

func TestUnreadBodyDrained(t *testing.T) {
	// nginx and Apache write the whole body before reading the response,
	// so the server must read what the handler left, or they see a broken
	// pipe instead of the response.
	tests := []struct {
		name   string
		srv    *Server
		status int
	}{
		{"handler ignores the body", &Server{}, 200},
		{"handler reads part of it", &Server{}, 200},
		{"413 without the handler", &Server{MaxBodyBytes: 1000}, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.name == "handler reads part of it" {
					r.Body.Read(make([]byte, 100))
				}
				io.WriteString(w, "ok")
			})
			l, _ := start(t, tt.srv)
			c, err := l.Dial()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			wrote := make(chan error, 1)
			go func() {
				_, err := io.WriteString(c, request("POST", "/", strings.Repeat("x", 1<<20)))
				wrote <- err
			}()
			out, err := io.ReadAll(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := <-wrote; err != nil {
				t.Errorf("web server's write of the body failed: %v", err)
			}
			if status, _, _ := parseCGI(t, string(out)); status != tt.status {
				t.Errorf("response %q, want %d", out, tt.status)
			}
		})
	}
}

// TestBodyWithoutContentLength pins issue 14: a header without
// CONTENT_LENGTH closed the connection with no answer; now the body is what
// the connection carries until the web server ends its side, under
// MaxBodyBytes, and r.ContentLength is -1.
func TestBodyWithoutContentLength(t *testing.T) {
	tests := []struct {
		name     string
		size     int
		limit    int64
		wantBody string
	}{
		{"streamed whole", 300_000, 0, "n=300000 length=-1 err=<nil>"},
		{"empty", 0, 0, "n=0 length=-1 err=<nil>"},
		{"past MaxBodyBytes", 5000, 1000, "n=1000 length=-1 err=http: request body too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &Server{MaxBodyBytes: tt.limit, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n, err := io.Copy(io.Discard, r.Body)
				fmt.Fprintf(w, "n=%d length=%d err=%v", n, r.ContentLength, err)
			})}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- srv.Serve(l) }()
			defer func() { srv.Close(); <-done }()
			c, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			in := netstring("SCGI", "1", "REQUEST_METHOD", "POST", "REQUEST_URI", "/up") + strings.Repeat("x", tt.size)
			go func() {
				c.Write([]byte(in))
				c.(*net.TCPConn).CloseWrite()
			}()
			out, err := io.ReadAll(c)
			if err != nil {
				t.Fatal(err)
			}
			status, _, body := parseCGI(t, string(out))
			if status != 200 || body != tt.wantBody {
				t.Errorf("status %d body %q, want 200 %q", status, body, tt.wantBody)
			}
		})
	}
}
