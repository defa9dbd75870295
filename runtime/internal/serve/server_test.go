package serve

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/testsupport/logbuf"
)

// chanListener is a net.Listener whose connections come from a channel, so
// tests decide exactly when each one arrives.
type chanListener struct {
	conns     chan net.Conn
	errs      chan error
	closeOnce sync.Once
	closed    chan struct{}
}

func newChanListener() *chanListener {
	return &chanListener{conns: make(chan net.Conn), errs: make(chan error, 1), closed: make(chan struct{})}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.errs:
		return nil, err
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// dial hands the server one end of a pipe and returns the other.
func (l *chanListener) dial(t *testing.T) net.Conn {
	t.Helper()
	client, server := net.Pipe()
	select {
	case l.conns <- server:
	case <-time.After(10 * time.Second):
		t.Fatal("server did not accept")
	}
	return client
}

// lineServer answers every line it reads with "ok\n"; a line "work" makes
// the connection active until the next line "done".
func lineServer(started chan<- *Conn) func(c *Conn) {
	return func(c *Conn) {
		if started != nil {
			started <- c
		}
		buf := make([]byte, 64)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			switch strings.TrimSpace(string(buf[:n])) {
			case "work":
				if !c.SetActive() {
					return
				}
			case "done":
				c.SetIdle()
			case "panic":
				panic("connection bug")
			}
			if _, err := c.Write([]byte("ok\n")); err != nil {
				return
			}
		}
	}
}

func send(t *testing.T, c net.Conn, line string) {
	t.Helper()
	if _, err := c.Write([]byte(line + "\n")); err != nil {
		t.Fatalf("write %q: %v", line, err)
	}
	buf := make([]byte, 3)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("reply to %q: %v", line, err)
	}
}

func serveInBackground(s *Server, l net.Listener, fn func(*Conn)) chan error {
	done := make(chan error, 1)
	go func() { done <- s.Serve(l, fn) }()
	return done
}

// Regression test: Shutdown closed a connection that had been accepted but
// had not sent its request yet, failing that request whenever a prefork
// worker retired or a spawned process restarted.
func TestShutdownLetsNewConnectionsBegin(t *testing.T) {
	defer func(d time.Duration) { newConnGrace = d }(newConnGrace)
	newConnGrace = 300 * time.Millisecond

	s := &Server{Protocol: "test", ErrorLog: log.New(io.Discard, "", 0)}
	l := newChanListener()
	served := serveInBackground(s, l, lineServer(nil))

	fresh := l.dial(t)  // connected, request not sent yet
	silent := l.dial(t) // connected, never sends anything
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()

	// The fresh connection's request, sent after Shutdown began, is served.
	send(t, fresh, "work")
	send(t, fresh, "done")
	// The silent one is closed once the grace period is over.
	silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("silent new connection: read error %v, want it closed by Shutdown", err)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v, want nil", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve = %v, want http.ErrServerClosed", err)
	}
}

// lateListener hands out one connection only once it is closed: the
// connection the kernel had queued, which Accept returns just as Shutdown
// closes the listener.
type lateListener struct {
	chanListener
	late      chan net.Conn
	accepting chan struct{} // closed when Serve first waits in Accept
	once      sync.Once
}

func (l *lateListener) Accept() (net.Conn, error) {
	l.once.Do(func() { close(l.accepting) })
	<-l.closed
	select {
	case c := <-l.late:
		return c, nil
	default:
		return nil, net.ErrClosed
	}
}

// Regression test: a connection Accept returned just as Shutdown closed the
// listener was closed unserved, so the request its client had queued failed
// ("connection closed without a response" for one request in a few hundred
// across threaded SIGHUP hand-overs, where the successor shares the socket).
func TestShutdownServesConnectionAcceptedAsItBegins(t *testing.T) {
	defer func(d time.Duration) { newConnGrace = d }(newConnGrace)
	newConnGrace = 300 * time.Millisecond

	s := &Server{Protocol: "test", ErrorLog: log.New(io.Discard, "", 0)}
	l := &lateListener{chanListener: *newChanListener(), late: make(chan net.Conn, 1), accepting: make(chan struct{})}
	client, server := net.Pipe()
	l.late <- server
	served := serveInBackground(s, l, lineServer(nil))
	<-l.accepting

	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	client.SetDeadline(time.Now().Add(10 * time.Second))
	send(t, client, "work")
	send(t, client, "done")
	client.Close()
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v, want nil", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve = %v, want http.ErrServerClosed", err)
	}
}

// Regression test: Shutdown closed an idle kept connection at once, so a
// request nginx had just sent on it failed (a prefork worker's drain lost a
// few requests in 100,000 under load).
func TestShutdownLetsKeptConnectionsFinish(t *testing.T) {
	defer func(d time.Duration) { idleGrace = d }(idleGrace)
	idleGrace = 300 * time.Millisecond

	s := &Server{Protocol: "test", ErrorLog: log.New(io.Discard, "", 0)}
	l := newChanListener()
	served := serveInBackground(s, l, lineServer(nil))

	kept := l.dial(t) // served one request, now idle between requests
	send(t, kept, "work")
	send(t, kept, "done")
	quiet := l.dial(t)
	send(t, quiet, "work")
	send(t, quiet, "done")

	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	for !s.ShuttingDown() {
		time.Sleep(time.Millisecond)
	}
	// Shutdown sweeps the connections at once and then every few
	// milliseconds; let it make several sweeps first.
	time.Sleep(50 * time.Millisecond)

	// A request arriving on the kept connection after Shutdown began is
	// served.
	send(t, kept, "work")
	send(t, kept, "done")
	// The quiet one is closed once it has been idle for the grace period.
	quiet.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := quiet.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("quiet kept connection: read error %v, want it closed by Shutdown", err)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v, want nil", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve = %v, want http.ErrServerClosed", err)
	}
}

func TestShutdownWaitsForActive(t *testing.T) {
	var logs logbuf.Buffer
	s := &Server{Protocol: "test", ErrorLog: log.New(&logs, "", 0)}
	l := newChanListener()
	served := serveInBackground(s, l, lineServer(nil))

	idle := l.dial(t)
	send(t, idle, "work")
	send(t, idle, "done")
	active := l.dial(t)
	send(t, active, "work")

	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()

	// The idle connection is closed; the active one keeps working.
	if _, err := idle.Read(make([]byte, 1)); err == nil {
		t.Error("idle connection still open during Shutdown")
	}
	send(t, active, "still here")
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v while a connection was active", err)
	default:
	}
	send(t, active, "done")
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v, want nil", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve = %v, want http.ErrServerClosed", err)
	}
	if err := s.Serve(newChanListener(), lineServer(nil)); !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve after Shutdown = %v, want http.ErrServerClosed", err)
	}
	if s.Conns() != 0 {
		t.Errorf("%d connections left after Shutdown", s.Conns())
	}
}

func TestShutdownContextExpires(t *testing.T) {
	s := &Server{ErrorLog: log.New(io.Discard, "", 0)}
	l := newChanListener()
	serveInBackground(s, l, lineServer(nil))
	c := l.dial(t)
	send(t, c, "work")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown with a done context = %v, want context.Canceled", err)
	}
	s.Close()
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("active connection still open after Close")
	}
}

func TestCloseEndsActive(t *testing.T) {
	s := &Server{ErrorLog: log.New(io.Discard, "", 0)}
	l := newChanListener()
	served := serveInBackground(s, l, lineServer(nil))
	c := l.dial(t)
	send(t, c, "work")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("active connection still open after Close")
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve = %v, want http.ErrServerClosed", err)
	}
}

// TestMaxConns: at the limit with every connection active, a new one is
// accepted but not served until a slot frees; nothing is evicted.
func TestMaxConns(t *testing.T) {
	s := &Server{MaxConns: 1, ErrorLog: log.New(io.Discard, "", 0)}
	l := newChanListener()
	started := make(chan *Conn, 2)
	serveInBackground(s, l, lineServer(started))
	defer s.Close()

	first := l.dial(t)
	<-started
	send(t, first, "work")
	second := l.dial(t) // accepted, held for room
	defer second.Close()
	select {
	case <-started:
		t.Fatal("second connection served beyond MaxConns=1 while the first was active")
	case <-time.After(3 * evictRetry):
	}
	// With the one waiting, nothing more is accepted.
	client, server := net.Pipe()
	defer client.Close()
	select {
	case l.conns <- server:
		t.Fatal("third connection accepted while one waits for room")
	default:
	}
	first.Close()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("slot not freed after the first connection closed")
	}
}

// Regression (issue 14 §3): 1,024 connections that sent nothing, or that
// had gone idle, locked every new client out until their idle timeout. At
// the limit, the connection quiet longest is closed to make room.
func TestMaxConnsEvictsQuietestFirst(t *testing.T) {
	for _, tt := range []struct {
		name string
		prep func(t *testing.T, c net.Conn) // puts a connection in its state
	}{
		{"new connections", func(t *testing.T, c net.Conn) {}},
		{"idle connections", func(t *testing.T, c net.Conn) {
			send(t, c, "work")
			send(t, c, "done")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{MaxConns: 3, ErrorLog: log.New(io.Discard, "", 0)}
			l := newChanListener()
			started := make(chan *Conn, 8)
			serveInBackground(s, l, lineServer(started))
			defer s.Close()

			var clients []net.Conn
			var served []*Conn
			for range 3 {
				c := l.dial(t)
				defer c.Close()
				served = append(served, <-started)
				tt.prep(t, c)
				clients = append(clients, c)
				time.Sleep(5 * time.Millisecond) // distinct quiet times
			}
			// The middle one turns active: never evicted.
			send(t, clients[1], "work")

			for i, want := range []int{0, 2} {
				c := l.dial(t)
				defer c.Close()
				select {
				case <-started:
				case <-time.After(10 * time.Second):
					t.Fatalf("connection %d not served at the limit", 4+i)
				}
				if !served[want].Evicted() {
					t.Errorf("connection %d (quiet longest) not evicted for connection %d", want+1, 4+i)
				}
				send(t, c, "work") // so that the next one evicts the other quiet one
			}
			if served[1].Evicted() {
				t.Error("the active connection was evicted")
			}
			send(t, clients[1], "ping")
		})
	}
}

func TestAcceptBackoff(t *testing.T) {
	var logs logbuf.Buffer
	s := &Server{Protocol: "test", ErrorLog: log.New(&logs, "", 0)}
	l := newChanListener()
	served := serveInBackground(s, l, lineServer(nil))
	l.errs <- tempErr{}
	// Accept must take the error before a connection is offered: with both
	// ready, its select would pick either (this test was flaky that way).
	const want = "test: accept: temporary trouble; retrying in 5ms"
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), want); {
		if time.Now().After(deadline) {
			t.Fatalf("log %q, want the accept error and the backoff", logs.String())
		}
		time.Sleep(time.Millisecond)
	}
	// After the backoff, Serve accepts again.
	c := l.dial(t)
	send(t, c, "hi")
	l.errs <- errors.New("permanent")
	if err := <-served; err == nil || err.Error() != "permanent" {
		t.Errorf("Serve = %v, want the permanent error", err)
	}
	s.Close()
}

type tempErr struct{}

func (tempErr) Error() string   { return "temporary trouble" }
func (tempErr) Temporary() bool { return true }
func (tempErr) Timeout() bool   { return false }

func TestConnPanicClosesOnlyThatConn(t *testing.T) {
	var logs logbuf.Buffer
	s := &Server{Protocol: "test", ErrorLog: log.New(&logs, "", 0)}
	l := newChanListener()
	serveInBackground(s, l, lineServer(nil))
	defer s.Close()
	bad := l.dial(t)
	good := l.dial(t)
	bad.Write([]byte("panic\n"))
	if _, err := bad.Read(make([]byte, 1)); err == nil {
		t.Error("connection still open after its goroutine panicked")
	}
	send(t, good, "hello")
	if got := logs.String(); !strings.Contains(got, "test: 127.0.0.1:0: panic serving connection: connection bug") && !strings.Contains(got, "test: pipe: panic serving connection: connection bug") {
		t.Errorf("log %q, want the panic with the peer", got)
	}
}

func TestCallHandler(t *testing.T) {
	tests := []struct {
		name        string
		handler     http.HandlerFunc
		wantPanic   bool
		wantLogged  string
		wantNoStack bool
	}{
		{"no panic", func(w http.ResponseWriter, r *http.Request) {}, false, "", true},
		{"panic logged with stack", func(w http.ResponseWriter, r *http.Request) { panic("boom") }, true, "fastcgi: 127.0.0.1:51234: panic serving GET /x: boom\ngoroutine ", false},
		{"ErrAbortHandler silent", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) }, true, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			s := &Server{Protocol: "fastcgi", ErrorLog: log.New(&logs, "", 0)}
			c := &Conn{srv: s, peer: "127.0.0.1:51234"}
			r, _ := http.NewRequest("GET", "/x", nil)
			r.RequestURI = "/x"
			if got := c.CallHandler(tt.handler, nil, r); got != tt.wantPanic {
				t.Errorf("CallHandler = %v, want %v", got, tt.wantPanic)
			}
			if !strings.HasPrefix(logs.String(), tt.wantLogged) || (tt.wantNoStack && logs.Len() > 0) {
				t.Errorf("log %q, want it to start %q", logs.String(), tt.wantLogged)
			}
		})
	}
}

func TestAcquireRequest(t *testing.T) {
	s := &Server{MaxRequests: 2}
	if !s.AcquireRequest() || !s.AcquireRequest() {
		t.Fatal("could not take 2 of 2 slots")
	}
	if s.AcquireRequest() {
		t.Fatal("took a third slot of 2")
	}
	s.ReleaseRequest()
	if !s.AcquireRequest() {
		t.Fatal("slot not given back")
	}
	if s.Requests() != 2 {
		t.Errorf("Requests = %d, want 2", s.Requests())
	}
	unlimited := &Server{}
	for i := 0; i < 100; i++ {
		if !unlimited.AcquireRequest() {
			t.Fatal("MaxRequests 0 refused a request")
		}
	}
}

type refusingPool struct{}

func (refusingPool) Go(func()) bool { return false }

func TestGo(t *testing.T) {
	ran := make(chan bool, 1)
	if !(&Server{}).Go(func() { ran <- true }) || !<-ran {
		t.Error("Go without a Pool did not run the task")
	}
	if (&Server{Pool: refusingPool{}}).Go(func() { t.Error("refused task ran") }) {
		t.Error("Go reported true when the Pool refused")
	}
}

// goPool runs tasks on new goroutines and has no Run method.
type goPool struct{}

func (goPool) Go(task func()) bool { go task(); return true }

// callerPool runs tasks through Run, on the caller's goroutine, and
// refuses them when full is set.
type callerPool struct {
	goPool
	full bool
}

func (p *callerPool) Run(task func()) bool {
	if p.full {
		return false
	}
	task()
	return true
}

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		pool       interface{ Go(func()) bool }
		wantRan    bool
		wantInline bool // the task ran on Run's caller
		runsInline bool // RunsInline's answer
	}{
		{name: "no Pool", pool: nil, wantRan: true, wantInline: true, runsInline: true},
		{name: "Pool with Run", pool: &callerPool{}, wantRan: true, wantInline: true, runsInline: true},
		{name: "Pool with Run, full", pool: &callerPool{full: true}, wantRan: false, runsInline: true},
		{name: "Pool with Go only", pool: goPool{}, wantRan: true, wantInline: false, runsInline: false},
		{name: "Pool with Go only, refusing", pool: refusingPool{}, wantRan: false, runsInline: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{Pool: tt.pool}
			if got := s.RunsInline(); got != tt.runsInline {
				t.Errorf("RunsInline() = %v, want %v", got, tt.runsInline)
			}
			// A goroutine's own stack tells whether the task ran on it.
			caller := goroutineID()
			var ranOn string
			ok := s.Run(func() { ranOn = goroutineID() })
			if ok != tt.wantRan {
				t.Fatalf("Run reported %v, want %v", ok, tt.wantRan)
			}
			if !ok {
				if ranOn != "" {
					t.Error("a refused task ran")
				}
				return
			}
			// Run has returned, so the task has too, wherever it ran.
			if inline := ranOn == caller; inline != tt.wantInline {
				t.Errorf("task ran on the caller's goroutine: %v, want %v", inline, tt.wantInline)
			}
		})
	}
}

// goroutineID returns "goroutine N" from the calling goroutine's stack.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := strings.Cut(string(buf), " [")
	return id
}

func TestPeerName(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("unix", dir+"/s.sock")
	if err != nil {
		t.Skipf("no unix sockets: %v", err)
	}
	defer l.Close()
	go func() {
		c, err := net.Dial("unix", dir+"/s.sock")
		if err == nil {
			defer c.Close()
			io.Copy(io.Discard, c)
		}
	}()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := peerName(c); got != dir+"/s.sock" {
		t.Errorf("peerName of a unix socket peer = %q, want the socket path", got)
	}
}
