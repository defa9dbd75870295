package fastcgi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Regression (issue 14 §3): one connection could begin all 1,024 request
// ids without finishing their params, and every other client got
// FCGI_OVERLOADED. Its requests beyond MaxConnRequests are refused (with a
// 503, see Server.Pool); other connections are served.
func TestMaxConnRequests(t *testing.T) {
	h := newHarness(t, &Server{Handler: echo, MaxConnRequests: 4, MaxRequests: 8})
	hog := h.dial()
	for id := uint16(1); id <= 8; id++ {
		hog.send(begin(id, roleResponder, flagKeepConn), paramsRec(id, "REQUEST_METHOD=GET"))
	}
	for id := uint16(5); id <= 8; id++ {
		if r := hog.response(id); r.protocolStatus != statusRequestComplete || r.status() != http.StatusServiceUnavailable {
			t.Errorf("request %d beyond MaxConnRequests: protocol status %d, output %q; want a complete 503", id, r.protocolStatus, r.stdout)
		}
	}
	other := h.dial()
	other.send(get(1, "/other"))
	if r := other.response(1); r.protocolStatus != statusRequestComplete || r.body() != "GET /other body=" {
		t.Errorf("another connection while one holds its share: status %d %q", r.protocolStatus, r.body())
	}
	// The hog's own requests still complete, and free its share.
	hog.send(rec(typeParams, 1, pairs("REQUEST_URI=/one"), 0), endParams(1), endStdin(1))
	if r := hog.response(1); r.body() != "GET /one body=" {
		t.Errorf("the hog's own request: %q", r.body())
	}
	hog.send(get(9, "/again"))
	if r := hog.response(9); r.body() != "GET /again body=" {
		t.Errorf("a request once the hog's share had room: %d %q", r.protocolStatus, r.body())
	}
}

// Regression (issue 14 §3): params were limited to 1 MiB per request, so
// 300 unfinished requests took half a gigabyte. The default is SCGI's.
func TestDefaultParamsLimit(t *testing.T) {
	h := newHarness(t, &Server{Handler: echo})
	c := h.dial()
	big := strings.Repeat("x", DefaultMaxHeaderBytes)
	stream := pairs("REQUEST_METHOD=GET", "REQUEST_URI=/big", "HTTP_X_BIG="+big)
	c.send(begin(1, roleResponder, flagKeepConn), rec(typeParams, 1, stream[:60000], 0),
		rec(typeParams, 1, stream[60000:], 0), endParams(1), endStdin(1))
	if r := c.response(1); r.status() != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("params over %d bytes: status %d, want 431", DefaultMaxHeaderBytes, r.status())
	}
	c.send(get(2, "/fits", "HTTP_X_BIG="+big[:DefaultMaxHeaderBytes/2]))
	if r := c.response(2); r.body() != "GET /fits body=" {
		t.Errorf("params within the limit: %d %q", r.status(), r.body())
	}
}

// trickle writes b one byte every gap until it is all written or the server
// closes the connection, and reports how many bytes went.
func trickle(c *client, b []byte, gap time.Duration) int {
	for i := range b {
		c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.conn.Write(b[i : i+1]); err != nil {
			return i
		}
		time.Sleep(gap)
	}
	return len(b)
}

// Regression (issue 14 §3): a byte every 1.5 s kept params and bodies
// open forever, since the read timeout restarted on each read. The head
// has one deadline, the body a minimum rate.
func TestSlowPeers(t *testing.T) {
	head := join(begin(1, roleResponder, flagKeepConn), paramsRec(1, "REQUEST_METHOD=POST", "REQUEST_URI=/slow",
		"CONTENT_LENGTH=100000", "HTTP_X_PAD="+strings.Repeat("p", 200)), endParams(1))
	tests := []struct {
		name    string
		srv     *Server
		lead    []byte // sent at once
		slow    []byte // sent a byte at a time
		wantLog string
	}{
		{"params", &Server{Handler: echo, ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: time.Hour},
			nil, head, "params not complete within ReadHeaderTimeout 300ms"},
		{"body", &Server{Handler: echo, MinBodyRate: 100000, ReadTimeout: time.Hour},
			head, stdinRec(1, strings.Repeat("b", 1000)), "body slower than MinBodyRate 100000 bytes/s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.srv)
			c := h.dial()
			if tt.lead != nil {
				c.send(tt.lead)
				time.Sleep(10 * time.Millisecond)
			}
			// At 50ms a byte, all of it takes longer than the hang guard of
			// the client; the server must close it well before.
			if n := trickle(c, tt.slow, 50*time.Millisecond); n == len(tt.slow) {
				t.Fatalf("all %d bytes sent a byte at a time were accepted", n)
			}
			c.expectClosed()
			waitFor(t, func() bool { return strings.Contains(h.logs.String(), tt.wantLog) }, "log line %q; log:\n%s", tt.wantLog, h.logs)
		})
	}
}

func waitFor(t *testing.T, cond func() bool, format string, args ...any) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for "+format, args...)
		}
	}
}

// Regression (issue 14 §3): FCGI_GET_VALUES now and then kept an idle
// connection open (and counted as activity) forever. The idle timeout runs
// from the last request.
func TestGetValuesDoesNotKeepConnection(t *testing.T) {
	h := newHarness(t, &Server{Handler: echo, IdleTimeout: 600 * time.Millisecond})
	c := h.dial()
	c.send(get(1, "/"))
	c.response(1)
	start := time.Now()
	for time.Since(start) < 5*time.Second {
		c.send(rec(typeGetValues, 0, pairs("FCGI_MPXS_CONNS="), 0))
		c.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.readRecord(); err != nil {
			return // closed: the management records did not keep it
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("a connection sending only GET_VALUES outlived IdleTimeout 600ms by seconds")
}

// Regression (issue 14 §3): bodies spilled to disk with no overall cap. A
// body that does not fit in MaxSpillBytes beside the others gets 503.
func TestMaxSpillBytes(t *testing.T) {
	release := make(chan struct{})
	holding := make(chan struct{}, 1)
	hold := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			holding <- struct{}{}
			<-release
		}
		n, err := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "%d %v", n, err)
	})
	srv := &Server{Handler: hold, BodyMemoryBytes: 1000, MaxSpillBytes: 5000, TempDir: t.TempDir()}
	h := newHarness(t, srv)
	a, b := h.dial(), h.dial()
	body := strings.Repeat("s", 4000)
	a.send(post(1, "/hold", body))
	<-holding
	b.send(post(1, "/p", body))
	if r := b.response(1); r.status() != http.StatusServiceUnavailable {
		t.Errorf("a second spilled body beyond MaxSpillBytes: status %d, want 503", r.status())
	}
	b.send(post(2, "/small", body[:900]))
	if r := b.response(2); r.body() != "900 <nil>" {
		t.Errorf("a body kept in memory meanwhile: %q", r.body())
	}
	close(release)
	if r := a.response(1); r.body() != "4000 <nil>" {
		t.Errorf("the spilled body: %q", r.body())
	}
	waitFor(t, func() bool { return srv.srv.Spilled() == 0 }, "the spill budget to come back (%d held)", srv.srv.Spilled())
	b.send(post(3, "/p", body))
	if r := b.response(3); r.body() != "4000 <nil>" {
		t.Errorf("a spilled body once the budget came back: %d %q", r.status(), r.body())
	}
}

// A body without CONTENT_LENGTH (issue 14 §4) keeps the body limits: it
// moves to disk past BodyMemoryBytes, within MaxSpillBytes, and fails with
// *http.MaxBytesError past MaxBodyBytes.
func TestStreamedBodyLimits(t *testing.T) {
	var got error
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			got = err
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		fmt.Fprintf(w, "%d %v cl=%d", n, err, r.ContentLength)
	})
	streamed := func(id uint16, n int) []byte {
		var recs [][]byte
		recs = append(recs, begin(id, roleResponder, flagKeepConn),
			paramsRec(id, "REQUEST_METHOD=POST", "REQUEST_URI=/s"), endParams(id))
		for sent := 0; sent < n; sent += 1000 {
			recs = append(recs, stdinRec(id, strings.Repeat("z", min(1000, n-sent))))
		}
		return join(append(recs, endStdin(id))...)
	}
	tests := []struct {
		name string
		size int
		want string
		code int
	}{
		{"in memory", 1500, "1500 <nil> cl=-1", 200},
		{"spilled to disk", 9000, "9000 <nil> cl=-1", 200},
		{"beyond MaxSpillBytes", 30000, "", 500},
		{"beyond MaxBodyBytes", 60000, "too large\n", 413},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &Server{Handler: h, BodyMemoryBytes: 2000, MaxSpillBytes: 20000, MaxBodyBytes: 50000, TempDir: t.TempDir()}
			if tt.name == "beyond MaxBodyBytes" {
				srv.MaxSpillBytes = 100000
			}
			hs := newHarness(t, srv)
			c := hs.dial()
			id := uint16(i + 1)
			c.send(streamed(id, tt.size))
			r := c.response(id)
			switch {
			case tt.code == 500:
				if !strings.Contains(r.body(), "does not fit in the server's MaxSpillBytes") {
					t.Errorf("body beyond MaxSpillBytes: %d %q, want the spill error", r.status(), r.body())
				}
			case r.body() != tt.want:
				t.Errorf("got %d %q, want %q", r.status(), r.body(), tt.want)
			}
			waitFor(t, func() bool { return srv.srv.Spilled() == 0 }, "the spill budget to come back (%d held)", srv.srv.Spilled())
		})
	}
	if got == nil {
		t.Error("no *http.MaxBytesError seen")
	}
}
