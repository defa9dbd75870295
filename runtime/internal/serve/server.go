package serve

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Server runs the accept loop and keeps track of connections for a protocol
// server. Set its fields before the first call to Serve and do not change
// them after; the zero value serves with no limits.
type Server struct {
	// Protocol names the protocol in log lines ("fastcgi"). Default "" logs
	// the peer's address alone.
	Protocol string
	// ErrorLog receives one line per connection problem and handler panic.
	// Default nil: log.Default().
	ErrorLog *log.Logger
	// MaxConns is how many connections may be served at once. At the
	// limit, Serve accepts one more connection and makes room for it by
	// closing the connection that has been quiet longest (New, or Idle:
	// no request in flight), or waits for one to close or go quiet, so
	// that peers holding connections open without using them cannot lock
	// others out. Default 0: no limit here (the protocol servers pass
	// their own default).
	MaxConns int
	// MaxRequests is how many requests may be in flight at once, across all
	// connections; AcquireRequest fails beyond it. Default 0: no limit.
	MaxRequests int
	// MaxSpillBytes is how many bytes of request bodies may be buffered on
	// disk at once, across all connections; AcquireSpill fails beyond it.
	// Default 0: no limit here (the protocol servers pass their own default).
	MaxSpillBytes int64
	// Pool, if non-nil, runs handlers for Go. Default nil: a new goroutine
	// per request.
	Pool interface{ Go(task func()) bool }

	mu        sync.Mutex
	listeners map[*net.Listener]struct{}
	conns     map[*Conn]struct{}
	done      chan struct{} // closed by Shutdown and Close
	killed    chan struct{} // closed by Close
	work      chan func()   // idle workers receive tasks here
	slots     chan struct{} // MaxConns tokens, made on first Serve
	wake      chan struct{} // a connection went Idle while Serve waits for room

	closed   bool // Close was called (under mu): nothing more is served
	closing  atomic.Bool
	waiting  atomic.Bool  // Serve waits for room: SetIdle signals wake
	evicting atomic.Int32 // connections evicted whose goroutine has not ended
	requests atomic.Int64
	spilled  atomic.Int64
}

// doneChan returns the channel Shutdown and Close close.
func (s *Server) doneChan() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	return s.done
}

func (s *Server) init() {
	if s.done == nil {
		s.work = make(chan func())
		s.done = make(chan struct{})
		s.killed = make(chan struct{})
		s.listeners = make(map[*net.Listener]struct{})
		s.conns = make(map[*Conn]struct{})
		if s.MaxConns > 0 {
			s.slots = make(chan struct{}, s.MaxConns)
			s.wake = make(chan struct{}, 1)
		}
	}
}

// Serve accepts connections on l and runs serveConn for each in its own
// goroutine, until Shutdown or Close (then it returns http.ErrServerClosed)
// or a permanent Accept error (returned as it is). It closes l when it
// returns. Serve may be called for several listeners at once.
//
// On Shutdown, a listener with a SetDeadline method (*net.TCPListener,
// *net.UnixListener, and wrappers that forward it) is not closed at once:
// Serve first accepts the connections waiting in its queue and serves them
// (see drainWait), because closing a listening socket resets those, and
// their clients have sent requests the web server can then neither retry
// safely nor answer. Other listeners are closed at once.
func (s *Server) Serve(l net.Listener, serveConn func(c *Conn)) error {
	s.mu.Lock()
	s.init()
	if s.closing.Load() {
		s.mu.Unlock()
		l.Close()
		return http.ErrServerClosed
	}
	s.listeners[&l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, &l)
		s.mu.Unlock()
		l.Close()
	}()

	dl, _ := l.(deadliner)
	var backoff time.Duration
	var drainUntil time.Time // set when Shutdown began: taking the queue
	for {
		if !drainUntil.IsZero() {
			now := time.Now()
			if now.After(drainUntil) {
				return http.ErrServerClosed
			}
			if err := dl.SetDeadline(now.Add(drainWait)); err != nil {
				return http.ErrServerClosed
			}
		}
		nc, err := l.Accept()
		if err != nil {
			if s.closing.Load() {
				// Shutdown's past deadline woke Accept (Close closes
				// the listener instead): take what is queued.
				//
				// The queue is taken even when the socket is shared
				// (a threaded SIGHUP successor accepting on it, or
				// systemd holding it for socket activation), where
				// closing our descriptor resets nothing: Serve cannot
				// tell whether whoever else holds it will accept (the
				// successor may fail, systemd only holds it until the
				// next start), and a connection taken here is served
				// under the same drain rules as any other, so taking
				// it is never worse than leaving it. drainFor bounds
				// the time a peer that keeps connecting, or a
				// successor's share of a busy socket, holds this open.
				// (A prefork worker's listener has no SetDeadline: it
				// closes its copy before Shutdown, leaving the queue to
				// its siblings and the master's copy.)
				if dl != nil && drainUntil.IsZero() && errors.Is(err, os.ErrDeadlineExceeded) {
					drainUntil = time.Now().Add(drainFor)
					continue
				}
				return http.ErrServerClosed
			}
			if !temporary(err) {
				return err
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.logf("", "accept: %v; retrying in %v", err, backoff)
			select {
			case <-time.After(backoff):
			case <-s.done:
				return http.ErrServerClosed
			}
			continue
		}
		backoff = 0
		if s.slots != nil {
			start := time.Now()
			if !s.makeRoom() {
				nc.Close()
				return http.ErrServerClosed
			}
			// Waiting for room is not taking the queue: drainFor
			// counts only the time spent accepting.
			if !drainUntil.IsZero() {
				drainUntil = drainUntil.Add(time.Since(start))
			}
		}
		now := time.Now()
		c := &Conn{Conn: nc, srv: s, accepted: now}
		c.idleSince.Store(now.UnixNano())
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			if s.slots != nil {
				<-s.slots
			}
			return http.ErrServerClosed
		}
		// After Shutdown the connection is served all the same: Accept
		// took it from the kernel's queue, where its client had put a
		// request it waits for (a SIGHUP hand-over or a retiring prefork
		// worker would otherwise fail it). Shutdown gives it newConnGrace
		// to begin, and waits for this loop to end before it reports
		// nothing left; the next Accept, on the closed listener, ends it.
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		go c.serve(serveConn)
	}
}

// makeRoom takes one of MaxConns slots for a connection just accepted. At
// the limit it closes the connection quiet longest (see MaxConns) and waits
// for its slot, or, with none quiet, waits for a slot or a connection to go
// quiet; meanwhile nothing more is accepted. It reports false when Close
// ends the wait. Shutdown does not: the connection was accepted, so its
// client has sent a request (or is about to), and Shutdown frees slots by
// closing the connections that go idle.
//
// The connection waiting is held unserved rather than left in the backlog
// because only an accepted connection shows that someone wants service:
// at the limit with nobody waiting, quiet connections (a web server's kept
// ones) are left alone.
func (s *Server) makeRoom() bool {
	select {
	case s.slots <- struct{}{}:
		return true
	default:
	}
	s.waiting.Store(true)
	defer s.waiting.Store(false)
	for {
		// One eviction at a time: the connection closed frees its slot
		// when its goroutine ends, and evicting again before then would
		// close a second connection for the one waiting.
		if s.evicting.Load() == 0 {
			s.evictQuietest()
		}
		select {
		case s.slots <- struct{}{}:
			return true
		case <-s.killed:
			return false
		case <-s.wake:
		case <-time.After(evictRetry):
		}
	}
}

// evictRetry bounds a wait for room that no event ends (a connection still
// New goes quiet without calling SetIdle).
const evictRetry = 100 * time.Millisecond

// evictQuietest closes the New or Idle connection whose last activity is
// oldest, if there is one.
func (s *Server) evictQuietest() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var oldest *Conn
	var since int64
	for c := range s.conns {
		switch State(c.state.Load()) {
		case StateNew, StateIdle:
			if t := c.idleSince.Load(); oldest == nil || t < since {
				oldest, since = c, t
			}
		}
	}
	if oldest == nil {
		return
	}
	st := oldest.state.Load()
	if (st != int32(StateNew) && st != int32(StateIdle)) || !oldest.state.CompareAndSwap(st, int32(stateClosed)) {
		// It became active just now; the next round picks another.
		return
	}
	oldest.evicted.Store(true)
	s.evicting.Add(1)
	oldest.Conn.Close()
}

// temporary reports whether Accept may succeed if tried again: the error
// says so, or the process or system is out of file descriptors or memory.
func temporary(err error) bool {
	var t interface{ Temporary() bool }
	if errors.As(err, &t) && t.Temporary() {
		return true
	}
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM) ||
		errors.Is(err, syscall.ECONNABORTED)
}

// Shutdown stops accepting, closes idle connections, and waits for active
// ones to go idle (closing them as they do) until none is left, or ctx ends,
// when it returns ctx's error and leaves the rest open (Close ends them).
// Connections already queued on a listener are accepted and served first
// (see Serve).
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.stop(true)
	wait := time.Millisecond
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		if s.closeIdle() {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			// Poll, as net/http does: connections go idle on their own
			// goroutines, and a poll costs nothing while none is left.
			wait = min(2*wait, 500*time.Millisecond)
			timer.Reset(wait)
		}
	}
}

// Close stops accepting and closes every connection now, whatever it is
// doing. In-flight requests see their connection fail.
func (s *Server) Close() error {
	err := s.stop(false)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		close(s.killed)
	}
	s.closed = true
	for c := range s.conns {
		c.state.Store(int32(stateClosed))
		c.Conn.Close()
	}
	return err
}

// stop marks the server closing and closes its listeners; with graceful,
// those that can take a deadline are woken with a past one instead, and
// their Serve loops close them once the queue is taken.
func (s *Server) stop(graceful bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	var err error
	if s.closing.CompareAndSwap(false, true) {
		close(s.done)
	}
	for l := range s.listeners {
		if d, ok := (*l).(deadliner); ok && graceful && d.SetDeadline(aLongTimeAgo) == nil {
			continue
		}
		if cerr := (*l).Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && err == nil {
			err = cerr
		}
	}
	return err
}

// closeIdle closes the idle connections, and the new ones that have sent
// nothing for newConnGrace, and reports whether none is left and no Serve
// loop is still running.
func (s *Server) closeIdle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for c := range s.conns {
		if now.UnixNano()-c.idleSince.Load() >= int64(idleGrace) &&
			c.state.CompareAndSwap(int32(StateIdle), int32(stateClosed)) {
			c.Conn.Close()
			continue
		}
		if now.Sub(c.accepted) >= newConnGrace &&
			c.state.CompareAndSwap(int32(StateNew), int32(stateClosed)) {
			c.Conn.Close()
		}
	}
	// A Serve loop still running may hold a connection it accepted before
	// its listener closed and has yet to register.
	return len(s.conns) == 0 && len(s.listeners) == 0
}

// deadliner is a listener whose Accept can be given a deadline.
type deadliner interface{ SetDeadline(t time.Time) error }

// aLongTimeAgo is a deadline that has passed: setting it wakes a blocked
// Accept at once.
var aLongTimeAgo = time.Unix(1, 0)

// drainWait is how long an Accept taking a listener's queue on Shutdown
// waits for one more connection before Serve closes the listener. A
// connection the web server opened is queued already (its handshake done)
// or within a round trip on loopback; a short wait also takes those, and
// the deadline is needed anyway because an expired one fails Accept before
// it looks at the queue. Connections arriving after it are refused once the
// listener is closed (the web server tries another backend); only those
// queued in the instant between the last Accept and the close (or when
// drainFor cuts a steady stream short) are reset: see docs/reliability.md,
// scenario 14, for why new connections are not refused first.
var drainWait = 5 * time.Millisecond

// drainFor bounds the time Serve spends taking a listener's queue on
// Shutdown, not counting waits for room under MaxConns, so a peer that
// keeps connecting cannot keep a draining server accepting: a full queue
// (the kernel's somaxconn, 4096 by default) is taken in a few milliseconds.
var drainFor = 250 * time.Millisecond

// idleGrace is how long a connection must have stayed idle before Shutdown
// closes it. A web server that keeps connections open (nginx with
// fastcgi_keep_conn, Apache's AJP) may send a request on one at any moment,
// and closing it just then turns that request into an error (nginx retries
// it on another kept connection, which may be closing too: a prefork
// worker's drain lost a few requests in 100,000 that way). A connection
// quiet for this long is one the web server is not using; the busy ones it
// closes itself (nginx after keepalive_requests), or they go quiet.
var idleGrace = time.Second // a variable so tests can shorten it

// newConnGrace is how long Shutdown lets an accepted connection that has
// not begun a request yet send one. A web server connects and writes its
// request at once; closing such a connection in between would fail that
// request (a prefork worker retiring, a spawned process restarting), so it
// is treated as active for a while, as net/http does for StateNew.
var newConnGrace = 5 * time.Second // a variable so tests can shorten it

// ShuttingDown reports whether Shutdown or Close has been called. Protocols
// that can say "no more requests on this connection" check it.
func (s *Server) ShuttingDown() bool { return s.closing.Load() }

// AcquireRequest takes one of MaxRequests slots and reports whether there
// was one; the caller answers "overloaded" when there was not, and calls
// ReleaseRequest when the request ends when there was.
func (s *Server) AcquireRequest() bool {
	n := s.requests.Add(1)
	if s.MaxRequests > 0 && n > int64(s.MaxRequests) {
		s.requests.Add(-1)
		return false
	}
	return true
}

// ReleaseRequest gives back a slot taken by AcquireRequest.
func (s *Server) ReleaseRequest() { s.requests.Add(-1) }

// AcquireSpill reserves n bytes of the MaxSpillBytes budget for a body
// buffered on disk, and reports whether they were free; the caller answers
// 503 (or fails the body) when they were not, and gives them back with
// ReleaseSpill when the file is closed.
func (s *Server) AcquireSpill(n int64) bool {
	if s.spilled.Add(n) > s.MaxSpillBytes && s.MaxSpillBytes > 0 {
		s.spilled.Add(-n)
		return false
	}
	return true
}

// ReleaseSpill gives back n bytes taken by AcquireSpill.
func (s *Server) ReleaseSpill(n int64) { s.spilled.Add(-n) }

// Spilled returns how many bytes of bodies are reserved on disk now.
func (s *Server) Spilled() int64 { return s.spilled.Load() }

// Requests returns how many requests hold a slot now.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// Conns returns how many connections are open now.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Go runs task on the Pool, and reports false when the Pool refused it.
// Without a Pool it runs task on an idle worker goroutine, or a new one.
// Workers are kept for workerIdle after their last task because a new
// goroutine's stack starts small and grows again, by copying, on every
// request, which costs more than the rest of serving a small page; a
// worker's stack has already grown.
func (s *Server) Go(task func()) bool {
	if s.Pool != nil {
		return s.Pool.Go(task)
	}
	select {
	case s.work <- task:
	default:
		go s.worker(task)
	}
	return true
}

// Run runs task on the calling goroutine and reports true, or reports false
// without running it when the Pool refused it. A Pool with a Run method of
// its own (workpool.Pool) counts the task against its limit without moving
// it to one of its goroutines; with any other Pool the task runs there and
// Run waits for it. Protocols call Run when a connection's goroutine has
// nothing else to do while the handler runs: handing the request to another
// goroutine would only add a switch between the two.
func (s *Server) Run(task func()) bool {
	switch p := s.Pool.(type) {
	case nil:
		task()
		return true
	case interface{ Run(task func()) bool }:
		return p.Run(task)
	}
	done := make(chan struct{})
	if !s.Pool.Go(func() { defer close(done); task() }) {
		return false
	}
	<-done
	return true
}

// RunsInline reports whether Run runs tasks on the caller's goroutine: there
// is no Pool, or the Pool has a Run method.
func (s *Server) RunsInline() bool {
	switch s.Pool.(type) {
	case nil, interface{ Run(task func()) bool }:
		return true
	}
	return false
}

// workerIdle is how long a worker waits for another task before it exits.
const workerIdle = 10 * time.Second

func (s *Server) worker(task func()) {
	done := s.doneChan()
	t := time.NewTimer(workerIdle)
	defer t.Stop()
	for {
		task()
		t.Reset(workerIdle)
		select {
		case task = <-s.work:
		case <-t.C:
			return
		case <-done:
			return
		}
	}
}

func (s *Server) logf(peer, format string, args ...any) {
	l := s.ErrorLog
	if l == nil {
		l = log.Default()
	}
	msg := fmt.Sprintf(format, args...)
	switch {
	case s.Protocol != "" && peer != "":
		l.Printf("%s: %s: %s", s.Protocol, peer, msg)
	case s.Protocol != "":
		l.Printf("%s: %s", s.Protocol, msg)
	case peer != "":
		l.Printf("%s: %s", peer, msg)
	default:
		l.Print(msg)
	}
}

// Logf logs one line about the server as a whole ("fastcgi: reason").
func (s *Server) Logf(format string, args ...any) { s.logf("", format, args...) }

// State is where a connection is in its life, as Shutdown sees it.
type State int32

const (
	// StateNew: accepted, no request begun yet; Shutdown closes it only
	// once it has sent nothing for a grace period (see newConnGrace).
	StateNew State = iota
	// StateIdle: a request has ended and none is in flight; Shutdown may
	// close it.
	StateIdle
	// StateActive: a request has begun; Shutdown waits for it.
	StateActive
	stateClosed
)

// Conn is one accepted connection. Its embedded net.Conn is the connection
// itself; serveConn reads and writes it directly.
type Conn struct {
	net.Conn
	srv       *Server
	state     atomic.Int32
	idleSince atomic.Int64 // UnixNano of the last SetIdle, or of the accept
	evicted   atomic.Bool  // closed by Serve to make room for another
	peer      string
	accepted  time.Time
}

// Server returns the Server that accepted c.
func (c *Conn) Server() *Server { return c.srv }

func (c *Conn) serve(serveConn func(*Conn)) {
	c.peer = peerName(c.Conn)
	defer func() {
		if v := recover(); v != nil {
			c.Logf("panic serving connection: %v\n%s", v, stack())
		}
		c.state.Store(int32(stateClosed))
		c.Conn.Close()
		s := c.srv
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		if c.evicted.Load() {
			s.evicting.Add(-1)
		}
		if s.slots != nil {
			<-s.slots
		}
	}()
	serveConn(c)
}

// SetActive marks c as having a request in flight. It reports false when
// Shutdown or Close has already closed c; the caller then stops serving it.
func (c *Conn) SetActive() bool {
	for {
		switch st := c.state.Load(); State(st) {
		case StateActive:
			return true
		case StateNew, StateIdle:
			if c.state.CompareAndSwap(st, int32(StateActive)) {
				return true
			}
		default:
			return false
		}
	}
}

// Closed reports whether Shutdown or Close has closed c, so that the
// protocol does not log the read error that follows as a problem.
func (c *Conn) Closed() bool { return State(c.state.Load()) == stateClosed }

// SetIdle marks c as having no request in flight, so Shutdown may close it.
func (c *Conn) SetIdle() {
	// Stored before the state changes, so Shutdown never sees an Idle
	// connection with a stale time.
	c.idleSince.Store(time.Now().UnixNano())
	c.state.CompareAndSwap(int32(StateActive), int32(StateIdle))
	if c.srv.waiting.Load() {
		select {
		case c.srv.wake <- struct{}{}:
		default:
		}
	}
}

// QuietSince is when c last had a request in flight (SetIdle), or when it
// was accepted if it has not had one. Protocols time the idle timeout from
// it, so that management records (FastCGI's GET_VALUES, AJP's CPING), which
// do not make a connection active, do not keep it open either.
func (c *Conn) QuietSince() time.Time { return time.Unix(0, c.idleSince.Load()) }

// Evicted reports whether Serve closed c to make room for a new connection
// (see Server.MaxConns); the protocol may log it as such.
func (c *Conn) Evicted() bool { return c.evicted.Load() }

// Peer names the other end in log lines: its address, or for a unix socket
// (whose peers have no address) the socket's path.
func (c *Conn) Peer() string { return c.peer }

func peerName(nc net.Conn) string {
	if a := nc.RemoteAddr(); a != nil && a.String() != "" && a.String() != "@" {
		return a.String()
	}
	if a := nc.LocalAddr(); a != nil && a.String() != "" {
		return a.String()
	}
	return "unknown peer"
}

// Logf logs one line about c: "fastcgi: 127.0.0.1:51234: reason".
func (c *Conn) Logf(format string, args ...any) { c.srv.logf(c.Peer(), format, args...) }

// CallHandler runs h.ServeHTTP(w, r), recovering a panic: it logs the panic
// with its stack (except http.ErrAbortHandler, which means "abort quietly",
// as in net/http) and returns true. The caller then fails the request.
func (c *Conn) CallHandler(h http.Handler, w http.ResponseWriter, r *http.Request) (panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			panicked = true
			if err, ok := v.(error); ok && err == http.ErrAbortHandler {
				return
			}
			c.Logf("panic serving %s %s: %v\n%s", r.Method, r.RequestURI, v, stack())
		}
	}()
	h.ServeHTTP(w, r)
	return false
}

func stack() []byte {
	buf := make([]byte, 64<<10)
	return buf[:runtime.Stack(buf, false)]
}
