package serve

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// gatedListener is a real listener whose Accept does not reach the kernel
// until Shutdown or Close touches the listener, so connections dialled
// meanwhile wait in its accept queue, as a web server's do while the
// backend is busy when SIGTERM arrives.
type gatedListener struct {
	net.Listener
	once, waitOnce sync.Once
	gate           chan struct{}
	waiting        chan struct{} // closed when Serve first calls Accept
}

func newGatedListener(t *testing.T, network string) *gatedListener {
	return &gatedListener{Listener: listenLoopback(t, network), gate: make(chan struct{}), waiting: make(chan struct{})}
}

func (l *gatedListener) open() { l.once.Do(func() { close(l.gate) }) }

func (l *gatedListener) Accept() (net.Conn, error) {
	l.waitOnce.Do(func() { close(l.waiting) })
	<-l.gate
	return l.Listener.Accept()
}

func (l *gatedListener) SetDeadline(t time.Time) error {
	err := l.Listener.(deadliner).SetDeadline(t)
	l.open()
	return err
}

func (l *gatedListener) Close() error {
	err := l.Listener.Close()
	l.open()
	return err
}

// listenLoopback listens on a loopback TCP port or on a unix socket in a
// short temporary directory (socket paths are limited to about 100 bytes).
func listenLoopback(t *testing.T, network string) net.Listener {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		dir, err := os.MkdirTemp("", "serve")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		addr = filepath.Join(dir, "s")
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatalf("listen %s %s: %v", network, addr, err)
	}
	return l
}

// Regression test (issue 13, reliability scenario 14's SIGTERM phase): a
// connection the web server had opened and written its request on, still
// waiting in the listening socket's accept queue when Shutdown began, was
// reset when Shutdown closed the listener, so its request was lost.
// Shutdown now accepts and serves what is queued before closing.
func TestShutdownServesAcceptQueue(t *testing.T) {
	const clients = 16
	for _, tt := range []struct {
		name    string
		network string
	}{
		{"tcp", "tcp"},
		{"unix", "unix"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{Protocol: "test", ErrorLog: log.New(io.Discard, "", 0)}
			l := newGatedListener(t, tt.network)
			served := serveInBackground(s, l, lineServer(nil))
			defer s.Close()
			<-l.waiting // Serve has registered l

			conns := make([]net.Conn, clients)
			for i := range conns {
				c, err := net.Dial(tt.network, l.Addr().String())
				if err != nil {
					t.Fatalf("dial %d: %v", i, err)
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(20 * time.Second))
				// The request is sent before the server accepts.
				if _, err := c.Write([]byte("work\n")); err != nil {
					t.Fatalf("client %d: write: %v", i, err)
				}
				conns[i] = c
			}

			shut := make(chan error, 1)
			go func() { shut <- s.Shutdown(context.Background()) }()

			var wg sync.WaitGroup
			errs := make(chan error, clients)
			for i, c := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					buf := make([]byte, 3)
					if _, err := io.ReadFull(c, buf); err != nil {
						errs <- err
						return
					}
					// The answer is in; end the request so the
					// connection goes idle and frees its slot.
					if _, err := c.Write([]byte("done\n")); err != nil {
						errs <- err
						return
					}
					if _, err := io.ReadFull(c, buf); err != nil {
						errs <- err
						return
					}
					conns[i].Close()
				}()
			}
			wg.Wait()
			close(errs)
			lost := 0
			for err := range errs {
				if lost == 0 {
					t.Errorf("queued connection's request lost: %v", err)
				}
				lost++
			}
			if lost > 0 {
				t.Errorf("%d of %d queued connections lost at Shutdown", lost, clients)
			}
			if err := <-shut; err != nil {
				t.Errorf("Shutdown = %v, want nil", err)
			}
			if err := <-served; !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("Serve = %v, want http.ErrServerClosed", err)
			}
		})
	}
}

// TestCloseLeavesAcceptQueue: Close ends everything at once, so what waits
// in the queue is not taken (it is reset when the listener closes).
func TestCloseLeavesAcceptQueue(t *testing.T) {
	s := &Server{Protocol: "test", ErrorLog: log.New(io.Discard, "", 0)}
	l := newGatedListener(t, "tcp")
	started := make(chan *Conn, 1)
	served := serveInBackground(s, l, lineServer(started))
	<-l.waiting

	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("work\n"))
	if err := s.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve = %v, want http.ErrServerClosed", err)
	}
	select {
	case <-started:
		t.Error("Close accepted and served a queued connection")
	default:
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("queued connection after Close: read error %v, want it reset", err)
	}
}

// A peer that keeps connecting while Shutdown takes the queue does not keep
// the server accepting: drainFor ends it.
func TestShutdownDrainIsBounded(t *testing.T) {
	defer func(d, g time.Duration) { drainFor, newConnGrace = d, g }(drainFor, newConnGrace)
	drainFor, newConnGrace = 50*time.Millisecond, 50*time.Millisecond

	s := &Server{Protocol: "test", ErrorLog: log.New(io.Discard, "", 0)}
	l := newGatedListener(t, "tcp")
	served := serveInBackground(s, l, lineServer(nil))
	defer s.Close()
	<-l.waiting

	stop := make(chan struct{})
	dialled := make(chan struct{})
	go func() {
		defer close(dialled)
		for {
			select {
			case <-stop:
				return
			default:
			}
			c, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				// Refused once the listener is closed.
				time.Sleep(time.Millisecond)
				continue
			}
			c.Close()
		}
	}()
	defer func() { close(stop); <-dialled }()

	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	select {
	case err := <-shut:
		if err != nil {
			t.Errorf("Shutdown = %v, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Shutdown still taking connections from a peer that keeps connecting")
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve = %v, want http.ErrServerClosed", err)
	}
}

// Regression test: a connection accepted at MaxConns, held for room, was
// closed when Shutdown began, losing the request its client had sent; with
// the accept queue taken on Shutdown that would be every connection queued
// beyond the limit. It is now served once Shutdown frees a slot.
func TestShutdownServesConnectionHeldForRoom(t *testing.T) {
	defer func(d time.Duration) { idleGrace = d }(idleGrace)
	idleGrace = 10 * time.Millisecond

	s := &Server{MaxConns: 1, ErrorLog: log.New(io.Discard, "", 0)}
	l := newChanListener()
	started := make(chan *Conn, 2)
	served := serveInBackground(s, l, lineServer(started))
	defer s.Close()

	first := l.dial(t)
	<-started
	send(t, first, "work")
	second := l.dial(t) // accepted, held for room
	defer second.Close()
	second.SetDeadline(time.Now().Add(20 * time.Second))

	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	for !s.ShuttingDown() {
		time.Sleep(time.Millisecond)
	}
	// Idle: closed to free the slot (at once by makeRoom's eviction, so
	// its reply is not awaited).
	if _, err := first.Write([]byte("done\n")); err != nil {
		t.Fatal(err)
	}
	send(t, second, "work")
	send(t, second, "done")
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v, want nil", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve = %v, want http.ErrServerClosed", err)
	}
}
