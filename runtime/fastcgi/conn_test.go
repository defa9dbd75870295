package fastcgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/workpool"
)

func TestRequests(t *testing.T) {
	long := strings.Repeat("v", 300)
	tests := []struct {
		name       string
		records    []byte
		wantStatus int
		wantBody   string
	}{
		{"GET", get(1, "/hello"), 200, "GET /hello body="},
		{"POST", post(1, "/p", "a=1&b=2"), 200, "POST /p body=a=1&b=2"},
		{"body in several padded records", join(begin(1, roleResponder, flagKeepConn),
			paramsRec(1, "REQUEST_METHOD=PUT", "REQUEST_URI=/x", "CONTENT_LENGTH=6"), endParams(1),
			rec(typeStdin, 1, []byte("ab"), 6), rec(typeStdin, 1, []byte("cd"), 255), stdinRec(1, "ef"), endStdin(1)),
			200, "PUT /x body=abcdef"},
		{"STDIN beyond CONTENT_LENGTH dropped", join(begin(1, roleResponder, flagKeepConn),
			paramsRec(1, "REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_LENGTH=3"), endParams(1),
			stdinRec(1, "abcdef"), endStdin(1)), 200, "POST /x body=abc"},
		{"STDIN shorter than CONTENT_LENGTH", join(begin(1, roleResponder, flagKeepConn),
			paramsRec(1, "REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_LENGTH=9"), endParams(1),
			stdinRec(1, "abc"), endStdin(1)), 499, "body: unexpected EOF\n"},
		// Regression (issue 14 §4): without CONTENT_LENGTH the body was
		// answered as empty; it is what STDIN carries up to its end.
		{"no CONTENT_LENGTH: the body is STDIN to its end", join(begin(1, roleResponder, flagKeepConn),
			paramsRec(1, "REQUEST_METHOD=POST", "REQUEST_URI=/x"), endParams(1),
			stdinRec(1, "streamed"), stdinRec(1, " body"), endStdin(1)), 200, "POST /x body=streamed body"},
		{"empty CONTENT_LENGTH: the body is STDIN to its end", join(begin(1, roleResponder, flagKeepConn),
			paramsRec(1, "REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_LENGTH="), endParams(1),
			stdinRec(1, "abc"), endStdin(1)), 200, "POST /x body=abc"},
		{"CONTENT_LENGTH=0 means no body", join(begin(1, roleResponder, flagKeepConn),
			paramsRec(1, "REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_LENGTH=0"), endParams(1),
			stdinRec(1, "ignored"), endStdin(1)), 200, "POST /x body="},
		// Regression (issue 13, Cherokee): a chunked body passed on still
		// encoded reached the handler as empty.
		{"CONTENT_TRANSFER_ENCODING=chunked is decoded", join(begin(1, roleResponder, flagKeepConn),
			paramsRec(1, "REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_TRANSFER_ENCODING=chunked"), endParams(1),
			stdinRec(1, "3\r\nabc\r\n"), stdinRec(1, "4\r\ndefg\r\n0\r\n\r\n"), endStdin(1)), 200, "POST /x body=abcdefg"},
		// Regression (issue 13, seen on a real Cherokee 1.2.104): its FastCGI
		// handler sends an empty STDIN record right after the params, then
		// the chunked body (without the final CRLF), then another empty one.
		// The first was taken for the end: the handler saw an empty body.
		{"Cherokee's empty STDIN ahead of a chunked body", join(begin(1, roleResponder, flagKeepConn),
			paramsRec(1, "REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_TRANSFER_ENCODING=chunked"), endParams(1),
			endStdin(1), stdinRec(1, "5\r\nhello\r\n3\r\nabc\r\n0\r\n"), endStdin(1)), 200, "POST /x body=helloabc"},
		// And, when the client's body has not come yet, the zeroed header it
		// reserves for a STDIN record, sent as it is.
		{"Cherokee's zeroed header inside a chunked body", join(begin(1, roleResponder, flagKeepConn),
			paramsRec(1, "REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_TRANSFER_ENCODING=chunked"), endParams(1),
			endStdin(1), make([]byte, headerLen), stdinRec(1, "5\r\nhello\r\n"), make([]byte, headerLen), stdinRec(1, "0\r\n"), endStdin(1)), 200, "POST /x body=hello"},
		{"chunked body cut short fails the read", join(begin(1, roleResponder, flagKeepConn),
			paramsRec(1, "REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_TRANSFER_ENCODING=chunked"), endParams(1),
			stdinRec(1, "9\r\nabc"), endStdin(1)), 499, "body: unexpected EOF\n"},
		{"4-byte lengths", join(begin(1, roleResponder, flagKeepConn),
			paramsRec(1, "REQUEST_METHOD=GET", "REQUEST_URI=/"+long, "HTTP_X_"+strings.Repeat("N", 200)+"="+long),
			endParams(1), endStdin(1)), 200, "GET /" + long + " body="},
		{"params split inside a pair", join(begin(1, roleResponder, flagKeepConn),
			rec(typeParams, 1, pairs("REQUEST_METHOD=GET", "REQUEST_URI=/split")[:5], 3),
			rec(typeParams, 1, pairs("REQUEST_METHOD=GET", "REQUEST_URI=/split")[5:], 1),
			endParams(1), endStdin(1)), 200, "GET /split body="},
		{"bad CONTENT_LENGTH is 400", join(begin(1, roleResponder, flagKeepConn),
			paramsRec(1, "REQUEST_METHOD=GET", "CONTENT_LENGTH=x"), endParams(1)), 400, "Bad Request\n"},
		{"DATA ignored", join(begin(1, roleResponder, flagKeepConn), paramsRec(1, "REQUEST_METHOD=GET", "REQUEST_URI=/d"),
			endParams(1), rec(typeData, 1, []byte("data"), 4), endStdin(1)), 200, "GET /d body="},
	}
	// Requests with as many variables as startRequest parses on the stack,
	// and one more; the variables that matter come last.
	for _, n := range []int{maxStackPairs, maxStackPairs + 1} {
		kv := append(manyVars(n-2), "REQUEST_METHOD=GET", fmt.Sprintf("REQUEST_URI=/vars%d", n))
		tests = append(tests, struct {
			name       string
			records    []byte
			wantStatus int
			wantBody   string
		}{fmt.Sprintf("%d variables", n), join(begin(1, roleResponder, flagKeepConn), paramsRec(1, kv...), endParams(1), endStdin(1)),
			200, fmt.Sprintf("GET /vars%d body=", n)})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, &Server{Handler: echo})
			c := h.dial()
			c.send(tt.records)
			r := c.response(1)
			if r.status() != tt.wantStatus || r.body() != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", r.status(), r.body(), tt.wantStatus, tt.wantBody)
			}
			if r.protocolStatus != statusRequestComplete || r.appStatus != 0 {
				t.Errorf("END_REQUEST protocol status %d, app status %d; want 0, 0", r.protocolStatus, r.appStatus)
			}
			if !r.sawEmptyStdout {
				t.Error("no empty STDOUT before END_REQUEST")
			}
			// The connection is still good, and nothing more came for request 1.
			c.send(get(2, "/next"))
			if r := c.response(2); r.body() != "GET /next body=" {
				t.Errorf("next request on the connection got %q", r.body())
			}
		})
	}
}

// TestZeroHeaderOutsideBody: the zeroed header Cherokee sends is skipped only while a
// request's STDIN is open; anywhere else it is the protocol error it always was.
func TestZeroHeaderOutsideBody(t *testing.T) {
	h := newHarness(t, &Server{Handler: echo})
	c := h.dial()
	c.send(make([]byte, headerLen), get(1, "/"))
	c.expectClosed()
}

func TestKeepConn(t *testing.T) {
	t.Run("off closes after the response", func(t *testing.T) {
		h := newHarness(t, &Server{Handler: echo})
		c := h.dial()
		c.send(begin(1, roleResponder, 0), paramsRec(1, "REQUEST_METHOD=GET", "REQUEST_URI=/"), endParams(1), endStdin(1))
		if r := c.response(1); r.status() != 200 {
			t.Fatalf("status %d", r.status())
		}
		c.expectClosed()
	})
	t.Run("on keeps the connection", func(t *testing.T) {
		h := newHarness(t, &Server{Handler: echo})
		c := h.dial()
		for id := uint16(1); id <= 3; id++ {
			c.send(get(id, "/"+strconv.Itoa(int(id))))
			if r := c.response(id); r.body() != "GET /"+strconv.Itoa(int(id))+" body=" {
				t.Fatalf("request %d got %q", id, r.body())
			}
		}
	})
}

// stall is a handler that blocks /stall requests until release is closed,
// without reading their bodies.
func stall(release <-chan struct{}, started chan<- string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if started != nil {
			started <- r.URL.Path
		}
		if strings.HasPrefix(r.URL.Path, "/stall") {
			select {
			case <-release:
			case <-r.Context().Done():
				fmt.Fprint(w, "canceled")
				return
			}
		}
		echo.ServeHTTP(w, r)
	})
}

func TestMultiplexingWithStalledHandler(t *testing.T) {
	for _, bodySize := range []int{10, 300 << 10} { // in memory, and spilled to a file
		t.Run(fmt.Sprintf("unread body of %d bytes", bodySize), func(t *testing.T) {
			release := make(chan struct{})
			h := newHarness(t, &Server{Handler: stall(release, nil), TempDir: t.TempDir()})
			c := h.dial()
			big := strings.Repeat("x", bodySize)
			// Request 1 stalls and never reads its body, whose records keep
			// coming in between request 2's.
			c.send(begin(1, roleResponder, flagKeepConn),
				paramsRec(1, "REQUEST_METHOD=POST", "REQUEST_URI=/stall", "CONTENT_LENGTH="+strconv.Itoa(2*bodySize)),
				endParams(1))
			for i := 0; i < len(big); i += maxContent {
				c.send(stdinRec(1, big[i:min(len(big), i+maxContent)]))
			}
			c.send(post(2, "/fast", "hi"))
			for i := 0; i < len(big); i += maxContent {
				c.send(stdinRec(1, big[i:min(len(big), i+maxContent)]))
			}
			c.send(endStdin(1))
			if r := c.response(2); r.body() != "POST /fast body=hi" {
				t.Fatalf("request 2 got %q while request 1 stalled", r.body())
			}
			if _, ok := c.done[1]; ok {
				t.Fatal("request 1 ended before it was released")
			}
			close(release)
			if r := c.response(1); r.body() != "POST /stall body="+big+big {
				t.Errorf("request 1 got %d bytes of body, want %d", len(r.body())-len("POST /stall body="), 2*bodySize)
			}
		})
	}
}

func TestAbort(t *testing.T) {
	t.Run("running handler sees its context canceled", func(t *testing.T) {
		started := make(chan string, 1)
		h := newHarness(t, &Server{Handler: stall(make(chan struct{}), started)})
		c := h.dial()
		c.send(get(1, "/stall"))
		<-started
		c.send(rec(typeAbortRequest, 1, nil, 0))
		r := c.response(1)
		if r.protocolStatus != statusRequestComplete {
			t.Errorf("protocol status %d, want request complete", r.protocolStatus)
		}
		if strings.Contains(r.stdout, "canceled") {
			t.Error("output written after the abort was sent")
		}
		c.send(get(2, "/after"))
		if r := c.response(2); r.body() != "GET /after body=" {
			t.Errorf("request after abort got %q", r.body())
		}
	})
	t.Run("before params end: ended at once, handler never called", func(t *testing.T) {
		var calls atomic.Int32
		h := newHarness(t, &Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls.Add(1) })})
		c := h.dial()
		c.send(begin(1, roleResponder, flagKeepConn), paramsRec(1, "REQUEST_METHOD=GET"), rec(typeAbortRequest, 1, nil, 0),
			endParams(1), endStdin(1))
		r := c.response(1)
		if r.stdout != "" || r.protocolStatus != statusRequestComplete {
			t.Errorf("aborted request got output %q, status %d; want none, request complete", r.stdout, r.protocolStatus)
		}
		// The records that followed the abort were dropped, not taken as a
		// new request: only the next request reaches the handler.
		c.send(get(3, "/x"))
		if r := c.response(3); r.status() != 200 {
			t.Errorf("next request got %d", r.status())
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("handler called %d times, want once (for the request after the abort)", n)
		}
	})
	t.Run("closed connection cancels the context", func(t *testing.T) {
		canceled := make(chan error, 1)
		started := make(chan struct{})
		h := newHarness(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(started)
			<-r.Context().Done()
			canceled <- r.Context().Err()
		})})
		c := h.dial()
		c.send(get(1, "/"))
		<-started
		c.conn.Close()
		if err := <-canceled; !errors.Is(err, context.Canceled) {
			t.Errorf("context error %v, want context.Canceled", err)
		}
	})
}

// limitsOf is the part of a Server a TestGetValues case sets.
type limitsOf struct {
	MaxConns, MaxRequests, MaxConnRequests int
	Pool                                   interface{ Go(func()) bool }
}

// TestGetValues: FCGI_MAX_REQS is the most requests one connection can have
// running at once. Regression (issue 11): it was MaxRequests (1024) whatever
// the Pool's MaxWorkers or MaxConnRequests, and HAProxy, which takes it as
// the most it multiplexes on one connection, sent more than could run.
func TestGetValues(t *testing.T) {
	pool := &workpool.Pool{MinSpare: 1, MaxWorkers: 3}
	t.Cleanup(pool.Close)
	all := []string{"FCGI_MAX_CONNS=", "FCGI_MAX_REQS=", "FCGI_MPXS_CONNS="}
	tests := []struct {
		name string
		srv  limitsOf
		ask  []string
		want string // pairs, in the order asked
	}{
		{"subset", limitsOf{}, []string{"FCGI_MPXS_CONNS=", "FCGI_UNKNOWN_THING="}, "FCGI_MPXS_CONNS=1"},
		{"MaxConns and MaxRequests", limitsOf{MaxConns: 7, MaxRequests: 9}, all, "FCGI_MAX_CONNS=7,FCGI_MAX_REQS=9,FCGI_MPXS_CONNS=1"},
		{"defaults: MaxConnRequests caps a connection", limitsOf{}, []string{"FCGI_MAX_REQS=", "FCGI_MAX_CONNS="}, "FCGI_MAX_REQS=64,FCGI_MAX_CONNS=1024"},
		{"MaxConnRequests", limitsOf{MaxConnRequests: 5, MaxRequests: 9}, all, "FCGI_MAX_CONNS=1024,FCGI_MAX_REQS=5,FCGI_MPXS_CONNS=1"},
		{"the pool's MaxWorkers", limitsOf{Pool: pool}, all, "FCGI_MAX_CONNS=1024,FCGI_MAX_REQS=3,FCGI_MPXS_CONNS=1"},
		{"a pool without a limit to tell", limitsOf{Pool: refusingPool{}, MaxConnRequests: 10}, all, "FCGI_MAX_CONNS=1024,FCGI_MAX_REQS=10,FCGI_MPXS_CONNS=1"},
		{"none known", limitsOf{}, []string{"OTHER="}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &Server{Handler: echo, MaxConns: tt.srv.MaxConns, MaxRequests: tt.srv.MaxRequests,
				MaxConnRequests: tt.srv.MaxConnRequests, Pool: tt.srv.Pool}
			h := newHarness(t, srv)
			c := h.dial()
			c.send(rec(typeGetValues, 0, pairs(tt.ask...), 0))
			r := c.management()
			if r.typ != typeGetValuesResult || r.id != 0 {
				t.Fatalf("reply type %d id %d, want GET_VALUES_RESULT id 0", r.typ, r.id)
			}
			ps, err := parsePairs(nil, string(r.content))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.Name+"="+p.Value)
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("reply %q, want %q", strings.Join(got, ","), tt.want)
			}
		})
	}
}

func TestUnknownType(t *testing.T) {
	for _, typ := range []uint8{0, 42, typeStdout, typeEndRequest, typeUnknownType} {
		t.Run(strconv.Itoa(int(typ)), func(t *testing.T) {
			h := newHarness(t, &Server{Handler: echo})
			c := h.dial()
			c.send(rec(typ, 0, []byte("abc"), 5))
			r := c.management()
			if r.typ != typeUnknownType || len(r.content) != 8 || r.content[0] != typ {
				t.Errorf("reply type %d content %v, want UNKNOWN_TYPE naming %d", r.typ, r.content, typ)
			}
			c.send(get(1, "/"))
			if r := c.response(1); r.status() != 200 {
				t.Errorf("request after an unknown type got %d", r.status())
			}
		})
	}
}

func TestUnknownRole(t *testing.T) {
	for _, role := range []uint16{roleAuthorizer, roleFilter, 99} {
		t.Run(strconv.Itoa(int(role)), func(t *testing.T) {
			var called atomic.Int32
			h := newHarness(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called.Add(1) })})
			c := h.dial()
			c.send(begin(1, role, flagKeepConn), paramsRec(1, "REQUEST_METHOD=GET"), endParams(1), stdinRec(1, "x"), endStdin(1),
				rec(typeData, 1, []byte("d"), 0))
			if r := c.response(1); r.protocolStatus != statusUnknownRole || r.stdout != "" {
				t.Errorf("END_REQUEST status %d, output %q; want UNKNOWN_ROLE and none", r.protocolStatus, r.stdout)
			}
			c.send(get(2, "/"))
			c.response(2)
			if called.Load() != 1 {
				t.Errorf("handler called %d times, want once (for the responder request)", called.Load())
			}
		})
	}
}

type refusingPool struct{}

func (refusingPool) Go(func()) bool { return false }

func TestOverloaded(t *testing.T) {
	t.Run("MaxRequests", func(t *testing.T) {
		release := make(chan struct{})
		started := make(chan string, 2)
		h := newHarness(t, &Server{Handler: stall(release, started), MaxRequests: 1})
		c := h.dial()
		c.send(get(1, "/stall"))
		<-started
		c.send(get(2, "/second"))
		if r := c.response(2); r.protocolStatus != statusRequestComplete || r.status() != http.StatusServiceUnavailable {
			t.Errorf("request beyond MaxRequests: protocol status %d, output %q; want a complete 503", r.protocolStatus, r.stdout)
		}
		close(release)
		c.response(1)
		c.send(get(3, "/third"))
		if r := c.response(3); r.status() != 200 {
			t.Errorf("request after the slot freed got %d", r.status())
		}
	})
	t.Run("Pool refuses", func(t *testing.T) {
		h := newHarness(t, &Server{Handler: echo, Pool: refusingPool{}})
		c := h.dial()
		c.send(get(1, "/"))
		if r := c.response(1); r.protocolStatus != statusRequestComplete || r.status() != http.StatusServiceUnavailable {
			t.Errorf("protocol status %d, output %q; want a complete 503", r.protocolStatus, r.stdout)
		}
		// The connection goes on serving.
		c.send(get(2, "/"))
		if r := c.response(2); r.status() != http.StatusServiceUnavailable {
			t.Errorf("second request: status %d, want 503", r.status())
		}
	})
}

func TestLimits(t *testing.T) {
	var called atomic.Bool
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called.Store(true) })
	tests := []struct {
		name       string
		srv        *Server
		records    []byte
		wantStatus int
	}{
		{"body over MaxBodyBytes", &Server{MaxBodyBytes: 10}, join(begin(1, roleResponder, flagKeepConn),
			paramsRec(1, "REQUEST_METHOD=POST", "CONTENT_LENGTH=11"), endParams(1), stdinRec(1, "01234567890"), endStdin(1)), 413},
		{"body over the default", &Server{}, join(begin(1, roleResponder, flagKeepConn),
			paramsRec(1, "REQUEST_METHOD=POST", "CONTENT_LENGTH="+strconv.Itoa(DefaultMaxBodyBytes+1)), endParams(1)), 413},
		{"params over MaxHeaderBytes", &Server{MaxHeaderBytes: 100}, join(begin(1, roleResponder, flagKeepConn),
			paramsRec(1, "REQUEST_METHOD=GET", "HTTP_X="+strings.Repeat("a", 60)), paramsRec(1, "HTTP_Y="+strings.Repeat("b", 60)),
			endParams(1), endStdin(1)), 431},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called.Store(false)
			tt.srv.Handler = handler
			h := newHarness(t, tt.srv)
			c := h.dial()
			c.send(tt.records)
			if r := c.response(1); r.status() != tt.wantStatus {
				t.Errorf("status %d, want %d", r.status(), tt.wantStatus)
			}
			c.send(get(2, "/"))
			c.response(2)
			if !called.Load() {
				t.Fatal("next request not served")
			}
			called.Store(false)
		})
	}
}

func TestBadInputClosesOnlyThatConnection(t *testing.T) {
	tests := []struct {
		name    string
		records []byte
		wantLog string
	}{
		{"version 2", []byte{2, typeBeginRequest, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0}, "fastcgi: pipe: record version 2, want 1"},
		{"short begin record", rec(typeBeginRequest, 1, []byte{0, 1, 1}, 5), "begin-request record of 3 bytes, want 8"},
		{"begin with id 0", begin(0, roleResponder, 0), "request id 0"},
		{"duplicate begin", join(begin(1, roleResponder, flagKeepConn), begin(1, roleResponder, flagKeepConn)), "request 1, which is still in flight"},
		{"name length past the end", join(begin(1, roleResponder, 0), rec(typeParams, 1, []byte{5, 1, 'A', 'B'}, 0), endParams(1)), "params of request 1: name-value pair of 5+1 bytes"},
		{"4-byte length cut short", join(begin(1, roleResponder, 0), rec(typeParams, 1, []byte{0x80, 0}, 0), endParams(1)), "params of request 1: name-value pair runs past"},
		{"bad pair after more than the stack holds", join(begin(1, roleResponder, 0),
			rec(typeParams, 1, append(pairs(manyVars(maxStackPairs)...), 5, 1, 'A'), 0), endParams(1)),
			"params of request 1: name-value pair of 5+1 bytes"},
		{"stdin before params end", join(begin(1, roleResponder, 0), stdinRec(1, "x")), "stdin record for request 1 before the end of its params"},
		{"get-values with a request id", rec(typeGetValues, 3, nil, 0), "get-values record with request id 3"},
		{"connection closed inside a record", []byte{1, typeParams, 0, 1, 0, 9}, "connection closed inside a record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, &Server{Handler: echo})
			good := h.dial()
			bad := h.dial()
			if tt.name == "connection closed inside a record" {
				bad.conn.Write(tt.records)
				bad.conn.Close()
			} else {
				bad.send(tt.records)
				bad.expectClosed()
			}
			good.send(get(1, "/"))
			if r := good.response(1); r.status() != 200 {
				t.Errorf("other connection got %d", r.status())
			}
			h.srv.Shutdown(context.Background())
			if got := h.logs.String(); !strings.Contains(got, tt.wantLog) || strings.Count(got, "\n") != 1 {
				t.Errorf("log %q, want one line containing %q", got, tt.wantLog)
			}
		})
	}
}

func TestHandlerPanic(t *testing.T) {
	release := make(chan struct{})
	h := newHarness(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/panic":
			w.Header().Set("X-Half", "1")
			io.WriteString(w, "half")
			panic("boom")
		case "/late":
			io.WriteString(w, strings.Repeat("x", 100<<10))
			panic("late boom")
		case "/abort":
			panic(http.ErrAbortHandler)
		}
		<-release
		io.WriteString(w, "other")
	})})
	c := h.dial()
	c.send(get(1, "/slow"), get(2, "/panic"))
	r := c.response(2)
	if r.status() != 500 || strings.Contains(r.stdout, "half") || strings.Contains(r.stdout, "X-Half") {
		t.Errorf("panicking request got %q, want a clean 500", r.stdout)
	}
	close(release)
	if r := c.response(1); r.body() != "other" {
		t.Errorf("other request on the connection got %q", r.body())
	}
	c.send(get(3, "/late"))
	if r := c.response(3); r.appStatus != 1 || r.status() != 200 {
		t.Errorf("panic after output: status %d, app status %d; want 200 and app status 1", r.status(), r.appStatus)
	}
	c.send(get(4, "/abort"))
	if r := c.response(4); r.status() != 500 {
		t.Errorf("ErrAbortHandler: status %d, want 500", r.status())
	}
	h.srv.Shutdown(context.Background())
	logs := h.logs.String()
	if !strings.Contains(logs, "fastcgi: pipe: panic serving GET /panic: boom\ngoroutine ") || !strings.Contains(logs, "late boom") {
		t.Errorf("log %q, want both panics with stacks", logs)
	}
	if strings.Contains(logs, "abort") {
		t.Errorf("ErrAbortHandler was logged: %q", logs)
	}
}

func TestHandlerStartsAfterParams(t *testing.T) {
	var called atomic.Bool
	h := newHarness(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called.Store(true) })})
	c := h.dial()
	c.send(begin(1, roleResponder, flagKeepConn), paramsRec(1, "REQUEST_METHOD=GET"))
	// A management round trip proves the server has read the records above.
	c.send(rec(typeGetValues, 0, pairs("FCGI_MPXS_CONNS="), 0))
	c.management()
	if called.Load() {
		t.Fatal("handler called before the empty PARAMS record")
	}
	c.send(endParams(1), endStdin(1))
	c.response(1)
	if !called.Load() {
		t.Fatal("handler not called after PARAMS ended")
	}
}

func TestFlushAndLargeResponse(t *testing.T) {
	release := make(chan struct{})
	big := strings.Repeat("0123456789abcdef", 20000)
	h := newHarness(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, big)
	})})
	c := h.dial()
	c.send(get(1, "/"))
	for !strings.Contains(c.pendingStdout(1), "first") {
		if err := c.step(); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	r := c.response(1)
	if r.body() != "first"+big {
		t.Errorf("body of %d bytes, want %d", len(r.body()), 5+len(big))
	}
	if r.stdoutRecords < 1+len(big)/maxContent {
		t.Errorf("%d STDOUT records for %d bytes, want them split at %d", r.stdoutRecords, len(big), maxContent)
	}
}

func (c *client) pendingStdout(id uint16) string {
	if p := c.pending[id]; p != nil {
		return p.stdout
	}
	return ""
}

func TestShutdownWaitsForRequests(t *testing.T) {
	release := make(chan struct{})
	started := make(chan string, 1)
	h := newHarness(t, &Server{Handler: stall(release, started)})
	c := h.dial()
	idle := h.dial()
	c.send(get(1, "/stall"))
	<-started
	shut := make(chan error, 1)
	go func() { shut <- h.srv.Shutdown(context.Background()) }()
	idle.expectClosed()
	close(release)
	if r := c.response(1); r.status() != 200 {
		t.Errorf("in-flight request got %d during Shutdown", r.status())
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v", err)
	}
	if err := <-h.served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve = %v, want http.ErrServerClosed", err)
	}
	h.served <- http.ErrServerClosed
}

// TestKeepConnOffLingers pins a bug seen with cgi-fcgi: closing a
// connection without FCGI_KEEP_CONN as soon as the response was written
// made the web server's write of the rest of STDIN fail with EPIPE.
func TestKeepConnOffLingers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Skipf("no unix sockets: %v", err)
	}
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "early") })}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	defer func() {
		srv.Close()
		<-done
	}()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := &client{t: t, conn: conn, pending: map[uint16]*response{}, done: map[uint16]response{}}
	if _, err := conn.Write(join(begin(1, roleResponder, 0), paramsRec(1, "REQUEST_METHOD=POST", "CONTENT_LENGTH=5"), endParams(1))); err != nil {
		t.Fatal(err)
	}
	if r := c.response(1); r.body() != "early" {
		t.Fatalf("got %q", r.body())
	}
	c.expectClosed() // the server shut its write side
	if _, err := conn.Write(join(stdinRec(1, "12345"), endStdin(1))); err != nil {
		t.Fatalf("writing the rest of STDIN after the response: %v", err)
	}
	conn.(*net.UnixConn).CloseWrite()
	for srv.srv.Conns() != 0 {
		runtime.Gosched()
	}
}

func TestTimeouts(t *testing.T) {
	t.Run("read timeout while params arrive is logged", func(t *testing.T) {
		h := newHarness(t, &Server{Handler: echo, ReadTimeout: 20 * time.Millisecond})
		c := h.dial()
		c.send(begin(1, roleResponder, flagKeepConn), paramsRec(1, "REQUEST_METHOD=GET"))
		c.expectClosed()
		h.srv.Shutdown(context.Background())
		if got := h.logs.String(); !strings.Contains(got, "fastcgi: pipe: read timeout") {
			t.Errorf("log %q, want the read timeout", got)
		}
	})
	t.Run("read timeout inside a record on an idle connection is logged", func(t *testing.T) {
		h := newHarness(t, &Server{Handler: echo, ReadTimeout: 20 * time.Millisecond, IdleTimeout: time.Hour})
		c := h.dial()
		c.send(get(1, "/"))
		c.response(1)
		// Half a begin-request record: the idle timeout no longer applies.
		c.send(begin(2, roleResponder, flagKeepConn)[:headerLen+4])
		c.expectClosed()
		h.srv.Shutdown(context.Background())
		if got := h.logs.String(); !strings.Contains(got, "fastcgi: pipe: read timeout: the rest of a record") {
			t.Errorf("log %q, want the read timeout inside a record", got)
		}
	})
	t.Run("idle timeout closes quietly", func(t *testing.T) {
		h := newHarness(t, &Server{Handler: echo, IdleTimeout: 20 * time.Millisecond})
		c := h.dial()
		c.send(get(1, "/"))
		c.response(1)
		c.expectClosed()
		h.srv.Shutdown(context.Background())
		if got := h.logs.String(); got != "" {
			t.Errorf("idle close logged %q", got)
		}
	})
}
