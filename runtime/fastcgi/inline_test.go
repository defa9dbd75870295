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

// TestPoolRunCountsInlineHandlers: a handler run inline holds one of the
// pool's MaxWorkers. A request beyond them waits for the slot: regression
// (issue 11), it was refused with FCGI_OVERLOADED, and a slot is held until
// the task returns, a moment after its response went out, so HAProxy
// multiplexing 50 requests to maxchildren=50 saw some refused (and left them
// unanswered until its server timeout). Beyond the pool's queue a request
// gets a 503.
func TestPoolRunCountsInlineHandlers(t *testing.T) {
	tests := []struct {
		name     string
		maxQueue int
		want     int // status of the request beyond MaxWorkers
	}{
		{"waits in the queue", 0, http.StatusOK},
		{"refused without a queue", -1, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			started := make(chan string, 3)
			pool := &workpool.Pool{MinSpare: 1, MaxSpare: 1, MaxWorkers: 1, MaxQueue: tt.maxQueue}
			defer pool.Close()
			h := newHarness(t, &Server{Handler: stall(release, started), Pool: pool})
			a, b := h.dial(), h.dial()
			a.send(get(1, "/stall"))
			<-started
			b.send(get(1, "/second"))
			if tt.want == http.StatusOK {
				deadline := time.Now().Add(10 * time.Second)
				for pool.Stats().Busy+pool.Stats().Queued < 2 && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
				close(release)
				// The pipe is unbuffered: the first handler's slot is free
				// once its response is read.
				if r := a.response(1); r.status() != 200 {
					t.Errorf("inline request got %d", r.status())
				}
				if r := b.response(1); r.protocolStatus != statusRequestComplete || r.status() != http.StatusOK {
					t.Errorf("request that waited: protocol status %d, output %q; want 200", r.protocolStatus, r.stdout)
				}
			} else {
				if r := b.response(1); r.protocolStatus != statusRequestComplete || r.status() != tt.want {
					t.Errorf("request beyond MaxWorkers: protocol status %d, output %q; want %d", r.protocolStatus, r.stdout, tt.want)
				}
				close(release)
				if r := a.response(1); r.status() != 200 {
					t.Errorf("inline request got %d", r.status())
				}
			}
			if s := pool.Stats(); s.MaxBusy != 1 {
				t.Errorf("%d handlers ran at once, want MaxWorkers 1", s.MaxBusy)
			}
			// The slot is given back when the task returns, just after
			// its response went out; without a queue, wait for that.
			for pool.Stats().Busy != 0 {
				time.Sleep(time.Millisecond)
			}
			b.send(get(2, "/third"))
			if r := b.response(2); r.status() != 200 {
				t.Errorf("request after the slot freed got %d, status %d (%+v)", r.status(), r.protocolStatus, pool.Stats())
			}
		})
	}
}
