package prefork

import (
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// A stopping worker waits at most settleLimit for the connections it has
// accepted to deliver their first request. A connection that has been open
// for quietConn without sending anything is not waited for: it is most likely
// a client's spare connection.
const (
	settleLimit = time.Second
	quietConn   = 100 * time.Millisecond
	settlePoll  = 5 * time.Millisecond
)

// drainListener lets a worker stop taking connections from the shared queue
// before it shuts its server down, and wait until every connection already
// accepted has been read from twice.
//
// Why: servers shutting down close a connection whose first request they had
// not finished reading (*http.Server does, without an answer), and a client
// cannot safely retry on a fresh connection. A server that has started a
// second read has dealt with what the first one returned, so once every
// accepted connection is past that point, each request is either in flight
// (Shutdown waits for it) or on a reused connection (which clients retry).
type drainListener struct {
	net.Listener

	mu        sync.Mutex
	pending   map[*settlingConn]bool // accepted, second read not started
	accepting int                    // Accept calls that may yet register a connection
	stopped   bool
	closed    chan struct{}
	closeOnce sync.Once
}

func newDrainListener(l net.Listener) *drainListener {
	return &drainListener{
		Listener: l,
		pending:  make(map[*settlingConn]bool),
		closed:   make(chan struct{}),
	}
}

func (l *drainListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	l.accepting++
	l.mu.Unlock()
	c, err := l.Listener.Accept()
	l.mu.Lock()
	l.accepting--
	stopped := l.stopped
	var sc *settlingConn
	if err == nil {
		// Registered in the same critical section that ends the call, so
		// stopAndSettle sees either the call or the connection.
		sc = &settlingConn{Conn: c, l: l, accepted: time.Now()}
		l.pending[sc] = true
	}
	l.mu.Unlock()
	if err != nil {
		if stopped {
			// Returning the error now would end Serve before Shutdown;
			// hold the server in Accept until Shutdown closes us.
			<-l.closed
			return nil, net.ErrClosed
		}
		return nil, err
	}
	return sc, nil
}

// stopAndSettle closes the worker's copy of the shared socket, so it accepts
// nothing more, then waits until no accepted connection is unsettled, or
// settleLimit. Connections that never sent anything are left to the server's
// Shutdown, which closes them as idle (*http.Server after 5 seconds): closing
// them sooner here races with a client just starting to use one, and a
// client does not retry a request on a connection it had not used before.
// It polls: it runs once per worker, on its way out.
func (l *drainListener) stopAndSettle() {
	l.stop()
	deadline := time.Now().Add(settleLimit)
	for l.unsettled() > 0 && time.Now().Before(deadline) {
		time.Sleep(settlePoll)
	}
}

// stop closes the worker's copy of the shared socket, so it accepts nothing
// more; the other workers go on accepting on theirs. Calling it again does
// nothing.
func (l *drainListener) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.stopped = true
		l.Listener.Close()
	}
}

// unsettled counts accepted connections whose first read has returned but
// whose second has not started, young ones that may still send, and Accept
// calls in progress, which may be about to return a connection.
func (l *drainListener) unsettled() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.accepting
	for c := range l.pending {
		if c.firstDone.Load() || time.Since(c.accepted) < quietConn {
			n++
		}
	}
	return n
}

func (l *drainListener) settle(c *settlingConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pending, c)
}

func (l *drainListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	l.mu.Lock()
	stopped := l.stopped
	l.mu.Unlock()
	if stopped {
		return nil
	}
	return l.Listener.Close()
}

type settlingConn struct {
	net.Conn
	l        *drainListener
	accepted time.Time

	reads     atomic.Int32 // Read calls started
	firstDone atomic.Bool  // the first Read has returned
	settled   atomic.Bool  // the second Read has started
}

// Read costs one atomic load once the connection has settled: it is on the
// path of every request.
func (c *settlingConn) Read(p []byte) (int, error) {
	if c.settled.Load() {
		return c.Conn.Read(p)
	}
	if c.reads.Add(1) == 1 {
		n, err := c.Conn.Read(p)
		c.firstDone.Store(true)
		return n, err
	}
	c.settled.Store(true)
	c.l.settle(c)
	return c.Conn.Read(p)
}

func (c *settlingConn) Close() error {
	c.l.settle(c)
	return c.Conn.Close()
}

// ReadFrom keeps the zero-copy path (sendfile, splice) of the connection
// underneath for servers that look for io.ReaderFrom, as net/http does.
func (c *settlingConn) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(c.Conn, r)
}

// CloseWrite half-closes the connection underneath, for servers that signal
// the end of a response that way.
func (c *settlingConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return fmt.Errorf("prefork: connection %T cannot half-close", c.Conn)
}
