package fastcgi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/workpool"
)

// The tests in this file pin what running a handler on the reader's
// goroutine (see conn) must not change: every case here runs a handler
// inline first and needs the reader back while it runs, or after.

func TestInlineHandlerReadsBodyStillArriving(t *testing.T) {
	started := make(chan string, 1)
	h := newHarness(t, &Server{Handler: stall(nil, started)})
	c := h.dial()
	c.send(begin(1, roleResponder, flagKeepConn),
		paramsRec(1, "REQUEST_METHOD=POST", "REQUEST_URI=/late", "CONTENT_LENGTH=10"), endParams(1))
	<-started
	// The handler now waits for a body that only a reader can bring.
	time.Sleep(5 * handOffAfter)
	c.send(stdinRec(1, "hello"))
	c.send(stdinRec(1, "world"), endStdin(1))
	if r := c.response(1); r.body() != "POST /late body=helloworld" {
		t.Errorf("got %q, want the body sent after the handler started", r.body())
	}
	c.send(get(2, "/next"))
	if r := c.response(2); r.body() != "GET /next body=" {
		t.Errorf("next request got %q", r.body())
	}
}

func TestInlineBodySentWithParams(t *testing.T) {
	// nginx sends a small body in the same write as the params; the
	// handler must get all of it, spread over several records, without
	// waiting for anything.
	h := newHarness(t, &Server{Handler: echo})
	c := h.dial()
	body := strings.Repeat("ab", 100)
	c.send(join(begin(1, roleResponder, flagKeepConn),
		paramsRec(1, "REQUEST_METHOD=POST", "REQUEST_URI=/p", fmt.Sprintf("CONTENT_LENGTH=%d", len(body))),
		endParams(1), rec(typeStdin, 1, []byte(body[:7]), 1), stdinRec(1, body[7:150]), stdinRec(1, body[150:]),
		endStdin(1)))
	if r := c.response(1); r.body() != "POST /p body="+body {
		t.Errorf("got %q", r.body())
	}
}

func TestSlowHandlersThenMoreRequests(t *testing.T) {
	// Each slow request hands reading to a new goroutine; the connection
	// must go on serving, inline again, and close cleanly at the end.
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(10 * handOffAfter)
		}
		echo.ServeHTTP(w, r)
	})}
	h := newHarness(t, srv)
	c := h.dial()
	id := uint16(0)
	for round := range 3 {
		for _, path := range []string{"/slow", "/a", "/b", "/slow", "/c"} {
			id++
			c.send(get(id, path))
			if r := c.response(id); r.body() != "GET "+path+" body=" {
				t.Fatalf("round %d: request %d for %s got %q", round, id, path, r.body())
			}
		}
	}
	c.conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for srv.srv.Conns() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the connection's goroutines never ended after the peer closed it")
		}
		time.Sleep(time.Millisecond)
	}
	if logs := h.logs.String(); logs != "" {
		t.Errorf("logged %q", logs)
	}
	// With no handler running inline, the watchdog stops ticking.
	for srv.watch.running.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the watchdog still runs with no handler left")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestMultiplexingPeerAfterInlineHandler(t *testing.T) {
	release := make(chan struct{})
	started := make(chan string, 3)
	h := newHarness(t, &Server{Handler: stall(release, started)})
	c := h.dial()
	c.send(get(1, "/stall1"))
	<-started
	c.send(get(2, "/fast"))
	if r := c.response(2); r.body() != "GET /fast body=" {
		t.Fatalf("request 2 got %q while request 1 stalled", r.body())
	}
	<-started
	// Request 1 still stalls; the connection now runs every handler on its
	// own goroutine, so a second stalled request holds up nobody either.
	c.send(get(3, "/stall3"))
	<-started
	c.send(get(4, "/fast"))
	if r := c.response(4); r.body() != "GET /fast body=" {
		t.Fatalf("request 4 got %q while requests 1 and 3 stalled", r.body())
	}
	close(release)
	for _, id := range []uint16{1, 3} {
		if r := c.response(id); r.status() != 200 {
			t.Errorf("request %d got %d after its release", id, r.status())
		}
	}
}

func TestPoolRunCountsInlineHandlers(t *testing.T) {
	release := make(chan struct{})
	started := make(chan string, 1)
	pool := &workpool.Pool{MinSpare: 1, MaxSpare: 1, MaxWorkers: 1}
	defer pool.Close()
	h := newHarness(t, &Server{Handler: stall(release, started), Pool: pool})
	a, b := h.dial(), h.dial()
	a.send(get(1, "/stall"))
	<-started
	b.send(get(1, "/second"))
	if r := b.response(1); r.protocolStatus != statusOverloaded || r.stdout != "" {
		t.Errorf("request beyond the pool's MaxWorkers: status %d, output %q; want OVERLOADED", r.protocolStatus, r.stdout)
	}
	close(release)
	if r := a.response(1); r.status() != 200 {
		t.Errorf("inline request got %d", r.status())
	}
	// The slot is given back when the task returns, just after its
	// response went out.
	for pool.Stats().Busy != 0 {
		time.Sleep(time.Millisecond)
	}
	b.send(get(2, "/third"))
	if r := b.response(2); r.status() != 200 {
		t.Errorf("request after the slot freed got %d, status %d (%+v)", r.status(), r.protocolStatus, pool.Stats())
	}
}
