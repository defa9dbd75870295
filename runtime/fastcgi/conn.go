package fastcgi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/appgen/appgen/runtime/internal/gateway"
	"github.com/appgen/appgen/runtime/internal/serve"
)

// protocolError is bad input from the web server: the connection is closed
// and the reason logged.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return e.msg }

func protoErrorf(format string, args ...any) error {
	return &protocolError{fmt.Sprintf(format, args...)}
}

// conn is one connection from the web server. One goroutine at a time, the
// reader, reads every record and dispatches it; responses are written under
// wmu by whichever goroutine ends the request.
//
// A handler runs on the reader's goroutine when its request is the only one
// in flight and the peer has not multiplexed: nginx, Apache and lighttpd
// send one request at a time on a connection, and moving each request to
// another goroutine and back cost more than the rest of serving a small page.
// Meanwhile nobody reads, so if the handler waits for its body, or runs for
// handOffAfter (so an abort or another request may be waiting), handOff
// starts a new reader goroutine and the old one ends with its handler.
// Otherwise (several requests in flight) each handler runs on a goroutine of
// its own.
type conn struct {
	srv  *Server
	lim  *limits
	sc   *serve.Conn
	br   *bufio.Reader
	hdr  [headerLen]byte
	mgmt []byte // management records; the reader's alone
	logf func(format string, args ...any)

	mu            sync.Mutex
	reqs          map[uint16]*request
	inflight      int  // requests begun whose END_REQUEST is not yet written
	closeWhenIdle bool // a request without FCGI_KEEP_CONN has begun

	closing  atomic.Bool // we close the connection on purpose
	inRecord bool        // the reader waits for the rest of a record; the reader's
	rdMode   int         // the read deadline mode last set, under mu
	rdAt     time.Time   // the read deadline last set, under mu

	wmu     sync.Mutex
	broken  bool      // a write failed, under wmu
	wdSetAt time.Time // when the write deadline was last set, under wmu

	handlers sync.WaitGroup

	// inline counts handlers run on the reader's goroutine: odd while one
	// runs, so nobody reads, and even while the reader reads. handOff moves
	// it from odd to even and starts a new reader.
	inline    atomic.Uint64
	handOffFn func()        // c.handOff, made once
	mpx       bool          // the peer multiplexed on this connection; the reader's
	closed    chan struct{} // closed by a reader readOn started when it has closed c

	// arriving is the request whose params the reader is reading, so
	// that the records of a request sent whole (the usual case) find it
	// without taking mu. The reader's alone, as a request is until its
	// handler starts; set by beginRequest, nil once the request starts or
	// the reader ends it.
	arriving *request
}

// handOffAfter is how long a handler runs on the reader's goroutine, at
// least and to within as much again (see watchdog), before another
// goroutine takes over reading. It bounds how late an abort or a closed
// connection cancels the request's context, and how long a peer's other
// requests wait the first time it multiplexes.
const handOffAfter = time.Millisecond

// errHandedOff ends a reader whose goroutine another reader replaced.
var errHandedOff = errors.New("fastcgi: reading handed to another goroutine")

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}

func (s *Server) serveConn(sc *serve.Conn) {
	c := &conn{srv: s, lim: &s.limits, sc: sc, reqs: make(map[uint16]*request), closed: make(chan struct{})}
	c.logf = sc.Logf
	c.handOffFn = c.handOff
	// The 16 KiB reader is taken once bytes arrive, so that a connection
	// that never sends any costs little more than its goroutine.
	c.rdMode, c.rdAt = deadlineIdle, sc.QuietSince().Add(c.lim.idleTO)
	sc.SetReadDeadline(c.rdAt)
	if err := sc.WaitInput(); err != nil {
		c.close(err)
		return
	}
	c.br = readerPool.Get().(*bufio.Reader)
	c.br.Reset(sc)
	s.watch.add(c)
	defer s.watch.remove(c)
	if err := c.readLoop(); err != errHandedOff {
		c.close(err)
	} else {
		// The last reader closes c. This goroutine stays until it has,
		// since serve.Conn counts the connection open while serveConn runs.
		<-c.closed
	}
	c.br.Reset(nil)
	readerPool.Put(c.br)
}

// handOff starts a new reader goroutine if the reader is running a handler.
// It is called by the Server's watchdog, and by a handler's body read that
// would wait for STDIN only a reader can bring.
func (c *conn) handOff() {
	if n := c.inline.Load(); n%2 == 1 && c.inline.CompareAndSwap(n, n+1) {
		go c.readOn()
	}
}

// readOn reads in a goroutine started by handOff. Unless it hands off in
// turn, it closes the connection when reading ends: that cancels the
// requests still in flight, among them the one whose handler still runs on
// serveConn's goroutine.
func (c *conn) readOn() {
	err := errHandedOff
	defer func() {
		if v := recover(); v != nil {
			// serve.Conn logs a panic on serveConn's goroutine, not on this
			// one, and one bad connection must not end the process.
			err = fmt.Errorf("panic reading the connection: %v\n%s", v, debug.Stack())
		}
		if err != errHandedOff {
			c.close(err)
			close(c.closed)
		}
	}()
	err = c.readLoop()
}

// runInline runs r's handler on the reader's goroutine; see conn. It
// reports whether the handler ran (false: the Pool refused it) and whether
// this goroutine is still the reader.
func (c *conn) runInline(r *request) (ran, reader bool) {
	c.readBuffered(r)
	n := c.inline.Add(1)
	c.srv.watch.wake()
	ran = c.srv.srv.Run(r.run)
	return ran, c.inline.CompareAndSwap(n, n+1)
}

// readBuffered feeds r the STDIN records already read into the buffer, so
// that a handler run inline finds the body a web server sent with the
// params (nginx sends a small one in the same write) without a hand-off.
func (c *conn) readBuffered(r *request) {
	for (r.body.remaining > 0 || r.body.remaining < 0 && !r.inputDone) && c.br.Buffered() >= headerLen {
		b, _ := c.br.Peek(headerLen)
		h := parseHeader((*[headerLen]byte)(b))
		if h.check() != nil || h.typ != typeStdin || h.id != r.id ||
			c.br.Buffered() < headerLen+int(h.contentLength)+int(h.paddingLength) {
			return
		}
		c.br.Discard(headerLen)
		c.stdin(h) // cannot fail: the whole record is buffered
		c.br.Discard(int(h.paddingLength))
	}
}

// readLoop reads and dispatches records until the connection fails or a
// record is bad, and returns why.
func (c *conn) readLoop() error {
	for {
		// A deadline matters only for a read that waits on the socket: the
		// records of a request usually arrive in one segment, and setting
		// one per record would cost more than the rest of the request.
		c.inRecord = false
		if c.br.Buffered() < headerLen {
			c.setReadDeadline(false)
		}
		if _, err := io.ReadFull(c.br, c.hdr[:]); err != nil {
			return err
		}
		if c.hdr == ([headerLen]byte{}) && c.awaitingStdin() {
			// Cherokee 1.2.104 sends the eight zero bytes it reserves for a
			// STDIN header as they are when the client's body has not come
			// yet. They carry nothing; the body's rate deadline still runs.
			continue
		}
		h := parseHeader(&c.hdr)
		if err := h.check(); err != nil {
			return &protocolError{err.Error()}
		}
		if c.br.Buffered() < int(h.contentLength)+int(h.paddingLength) {
			c.inRecord = true
			c.setReadDeadline(true)
		}
		var err error
		switch h.typ {
		case typeBeginRequest:
			err = c.beginRequest(h)
		case typeParams:
			err = c.params(h)
		case typeStdin:
			err = c.stdin(h)
		case typeAbortRequest:
			err = c.abort(h)
		case typeGetValues:
			err = c.getValues(h)
		case typeData:
			// Only the Filter role, which is refused, has a DATA stream.
			_, err = c.br.Discard(int(h.contentLength))
		default:
			if _, err = c.br.Discard(int(h.contentLength)); err == nil {
				err = c.writeManagement(appendUnknownType(c.mbuf(), h.typ))
			}
		}
		if err == nil {
			_, err = c.br.Discard(int(h.paddingLength))
		}
		if err != nil {
			if err == errHandedOff {
				return err
			}
			return inRecord(err)
		}
	}
}

// inRecord turns io.EOF, which bufio's Peek and Discard return when the peer
// closes part-way through a record's content or padding, into
// io.ErrUnexpectedEOF: only an EOF between records is a clean close.
func inRecord(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Read deadline modes; see setReadDeadline.
const (
	deadlineNone = iota
	deadlineRead
	deadlineIdle
)

// deadlineSlack is how stale a deadline may get before it is set again:
// setting one on every record costs more than the request itself, and a
// timeout that fires up to a second late harms nobody.
const deadlineSlack = time.Second

// setReadDeadline bounds the wait for the next bytes. While a request's
// input is incomplete: ReadTimeout for the next record, and the request's
// own deadlines, which waiting does not move: its params must be complete
// ReadHeaderTimeout after the reader first waited for them, and its STDIN
// must keep up MinBodyRate. With no request in flight, the connection may
// stay IdleTimeout after it was last active (management records do not
// count). While every request is only waiting for its handler: nothing.
func (c *conn) setReadDeadline(midRecord bool) {
	if c.closing.Load() {
		// Draining after shutWrite: its deadline stands.
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.reqs) == 0 && !midRecord {
		// Between requests on a kept connection, the usual case: the
		// idle deadline runs from the last request, so it needs no clock.
		dl := c.sc.QuietSince().Add(c.lim.idleTO)
		if c.rdMode != deadlineIdle || dl.Sub(c.rdAt) >= deadlineSlack || c.rdAt.Sub(dl) >= deadlineSlack {
			c.rdMode, c.rdAt = deadlineIdle, dl
			c.sc.SetReadDeadline(dl)
		}
		return
	}
	now := time.Now()
	mode := deadlineNone
	if midRecord {
		mode = deadlineRead
	}
	var dl time.Time
	for _, r := range c.reqs {
		switch {
		case !r.paramsDone:
			if r.headBy.IsZero() {
				r.headBy = now.Add(c.lim.headerTimeout)
			}
			dl = serve.Earliest(dl, r.headBy)
			mode = deadlineRead
		case !r.inputDone:
			if r.bodyFrom.IsZero() {
				r.bodyFrom = now
			}
			dl = serve.Earliest(dl, serve.BodyDeadline(r.bodyFrom, r.stdinBytes, c.lim.minBodyRate))
			mode = deadlineRead
		}
	}
	if mode == deadlineNone {
		if c.rdMode != deadlineNone {
			c.rdMode = deadlineNone
			c.sc.SetReadDeadline(time.Time{})
		}
		return
	}
	dl = serve.Earliest(dl, now.Add(c.lim.readTimeout))
	if mode == c.rdMode && dl.Sub(c.rdAt) < deadlineSlack && c.rdAt.Sub(dl) < deadlineSlack {
		return
	}
	c.rdMode, c.rdAt = mode, dl
	c.sc.SetReadDeadline(dl)
}

// timedOut names the request deadline that passed, if one did. The
// deadline set may have been up to deadlineSlack early.
func (c *conn) timedOut(now time.Time) string {
	late := now.Add(deadlineSlack)
	for _, r := range c.reqs {
		switch {
		case !r.paramsDone && !r.headBy.IsZero() && !late.Before(r.headBy):
			return fmt.Sprintf("request %d: params not complete within ReadHeaderTimeout %v", r.id, c.lim.headerTimeout)
		case r.paramsDone && !r.inputDone && !r.bodyFrom.IsZero() && c.lim.minBodyRate > 0 &&
			!late.Before(serve.BodyDeadline(r.bodyFrom, r.stdinBytes, c.lim.minBodyRate)):
			return fmt.Sprintf("request %d: body slower than MinBodyRate %d bytes/s (%d bytes in %v)",
				r.id, c.lim.minBodyRate, r.stdinBytes, now.Sub(r.bodyFrom).Round(time.Millisecond))
		}
	}
	return ""
}

// close ends the connection after readLoop returns: it logs why (unless the
// peer just went away or we closed it), cancels every request still in
// flight and waits for their handlers.
func (c *conn) close(err error) {
	var ne net.Error
	switch {
	case c.closing.Load(), c.sc.Closed(), errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
	case errors.Is(err, io.ErrUnexpectedEOF):
		c.logf("connection closed inside a record")
	case errors.As(err, &ne) && ne.Timeout():
		c.mu.Lock()
		idle := len(c.reqs) == 0
		why := c.timedOut(time.Now())
		c.mu.Unlock()
		switch {
		case why != "":
			c.logf("read timeout: %s", why)
		case c.inRecord:
			c.logf("read timeout: the rest of a record did not come within %v", c.lim.readTimeout)
		case !idle:
			c.logf("read timeout: no record for %v while a request was arriving", c.lim.readTimeout)
		}
	default:
		c.logf("%v", err)
	}
	c.closing.Store(true)
	c.sc.Close()
	c.arriving = nil
	c.mu.Lock()
	for id, r := range c.reqs {
		if r.started {
			// The handler ends the request; its context and body tell it
			// nobody is listening any more.
			r.aborted.Store(true)
			r.cancel()
			r.body.fail(errConnClosed)
			continue
		}
		delete(c.reqs, id)
		c.release(r)
	}
	c.mu.Unlock()
	c.handlers.Wait()
}

func (c *conn) release(r *request) {
	if r.acquired {
		c.srv.srv.ReleaseRequest()
	}
	r.free()
}

// mbuf returns the buffer for a management record (or a refusal), empty.
// Only the reader goroutine writes those, so the buffer is its alone.
func (c *conn) mbuf() []byte { return c.mgmt[:0] }

// writeManagement writes b, built on mbuf, and keeps it for reuse.
func (c *conn) writeManagement(b []byte) error {
	c.mgmt = b[:0]
	return c.write(b)
}

// write sends b to the web server in one write, under the write lock so
// that records of concurrent responses never interleave.
func (c *conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.broken {
		return errConnClosed
	}
	if now := time.Now(); now.Sub(c.wdSetAt) >= deadlineSlack {
		c.wdSetAt = now
		c.sc.SetWriteDeadline(now.Add(c.lim.writeTimeout + deadlineSlack))
	}
	if _, err := c.sc.Write(b); err != nil {
		c.broken = true
		if !c.closing.Load() {
			c.logf("write: %v", err)
		}
		// The reader stops too: the connection is of no more use.
		c.closing.Store(true)
		c.sc.Close()
		return err
	}
	return nil
}

func (c *conn) beginRequest(h header) error {
	if h.contentLength != 8 {
		return protoErrorf("begin-request record of %d bytes, want 8", h.contentLength)
	}
	if h.id == 0 {
		return protoErrorf("begin-request record with request id 0, which is for management records")
	}
	b, err := c.br.Peek(8)
	if err != nil {
		return err
	}
	role := uint16(b[0])<<8 | uint16(b[1])
	keepConn := b[2]&flagKeepConn != 0
	c.br.Discard(8)

	c.mu.Lock()
	_, dup := c.reqs[h.id]
	n := len(c.reqs)
	c.mu.Unlock()
	if dup {
		return protoErrorf("begin-request for request %d, which is still in flight", h.id)
	}
	if c.closing.Load() {
		// After shutWrite nothing can be answered; the peer broke the
		// FCGI_KEEP_CONN contract.
		return net.ErrClosed
	}
	if role != roleResponder {
		// Records that follow for this id find no request and are dropped.
		return c.refuse(h.id, keepConn, statusUnknownRole)
	}
	if n >= c.lim.maxConnReq {
		// This connection's share is taken: its peer waits, not everyone.
		return c.refuse(h.id, keepConn, statusOverloaded)
	}
	if !c.srv.srv.AcquireRequest() {
		return c.refuse(h.id, keepConn, statusOverloaded)
	}
	r := newRequest(c, h.id, keepConn)
	r.acquired = true
	c.mu.Lock()
	if !c.sc.SetActive() {
		c.mu.Unlock()
		c.release(r)
		return net.ErrClosed
	}
	if len(c.reqs) > 0 {
		// A request not yet answered: the peer multiplexes. From now on
		// each handler gets a goroutine of its own, so that the reader is
		// always there for the next request. (inflight would also count
		// a request whose END_REQUEST was just written, and a peer may
		// send its next request on reading that.)
		c.mpx = true
	}
	c.reqs[h.id] = r
	c.inflight++
	if !keepConn {
		c.closeWhenIdle = true
	}
	c.mu.Unlock()
	c.arriving = r
	return nil
}

// refuse answers a request at its FCGI_BEGIN_REQUEST with only
// FCGI_END_REQUEST and status; for statusOverloaded, with a complete 503
// response instead (see overloaded).
func (c *conn) refuse(id uint16, keepConn bool, status uint8) error {
	b := c.mbuf()
	if status == statusOverloaded {
		r := newRequest(c, id, keepConn)
		r.rw.Reset(&r.out, nil, nil)
		r.rw.Fail(http.StatusServiceUnavailable)
		r.rw.Finish()
		b = append(b, r.out.buf...)
		b, _ = appendHeader(b, typeStdout, id, 0)
		status = statusRequestComplete
		r.free()
	}
	if err := c.writeManagement(appendEndRequest(b, id, 0, status)); err != nil {
		return err
	}
	if !keepConn {
		c.mu.Lock()
		c.closeWhenIdle = true
		idle := c.inflight == 0
		c.mu.Unlock()
		if idle {
			c.shutWrite()
		}
	}
	return nil
}

// lingerTimeout bounds how long a connection we are done with waits for
// the web server to finish sending and close its end.
const lingerTimeout = 5 * time.Second

// shutWrite ends a connection whose last request has been answered without
// FCGI_KEEP_CONN, as the specification asks. Closing it outright would make
// the web server's remaining writes (the end of STDIN, or a body the handler
// did not need) fail, or reset the connection before the response is read;
// so only the write side is shut, and the reader drains what still arrives
// until the peer closes or lingerTimeout passes.
func (c *conn) shutWrite() {
	c.closing.Store(true)
	c.wmu.Lock()
	c.broken = true
	c.wmu.Unlock()
	if cw, ok := c.sc.Conn.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		c.sc.SetReadDeadline(time.Now().Add(lingerTimeout))
		return
	}
	c.sc.Close()
}

// lookup returns the request with id that the reader may still feed
// params to, or nil.
func (c *conn) lookup(id uint16) *request {
	c.mu.Lock()
	r := c.reqs[id]
	c.mu.Unlock()
	return r
}

func (c *conn) params(h header) error {
	n := int(h.contentLength)
	r := c.arriving
	if r == nil || r.id != h.id {
		r = c.lookup(h.id)
	}
	if r == nil || r.paramsDone {
		// A request refused at begin (role, overload) or already rejected.
		_, err := c.br.Discard(n)
		return err
	}
	if n == 0 {
		return c.startRequest(r)
	}
	if len(r.params)+n > c.lim.maxHeader {
		if _, err := c.br.Discard(n); err != nil {
			return err
		}
		r.paramsDone = true
		return c.reject(r, http.StatusRequestHeaderFieldsTooLarge)
	}
	old := len(r.params)
	r.params = append(r.params, make([]byte, n)...)
	_, err := io.ReadFull(c.br, r.params[old:])
	return err
}

// startRequest parses the params, checks them and starts the handler.
func (c *conn) startRequest(r *request) error {
	r.paramsDone = true
	c.arriving = nil
	// The pairs go into an array on this goroutine's stack, indexed here
	// rather than appended in a function of their own: written through a
	// slice, each pair's two pointers cost a write barrier while the GC
	// runs, which came to a tenth of a request. More than fit go the slow way.
	var buf [maxStackPairs]gateway.Param
	params := string(r.params)
	n := 0
	for s := params; s != "" && n < len(buf); n++ {
		name, value, rest, err := nextPair(s)
		if err != nil {
			return protoErrorf("params of request %d: %v", r.id, err)
		}
		buf[n] = gateway.Param{Name: name, Value: value}
		s = rest
	}
	pairs := buf[:n]
	if n == len(buf) {
		var err error
		if pairs, err = parsePairs(nil, params); err != nil {
			return protoErrorf("params of request %d: %v", r.id, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	req, err := gateway.NewRequestContext(ctx, pairs, &r.body, &c.srv.cfg)
	if err != nil {
		c.logf("request %d: %v", r.id, err)
		return c.reject(r, http.StatusBadRequest)
	}
	length, chunked := req.ContentLength, false
	if length == 0 {
		// Zero from an absent CONTENT_LENGTH, and STDIN not seen to end:
		// the body is what STDIN carries (a web server streaming it). A
		// chunked one is, whatever comes next: Cherokee sends an empty
		// STDIN record before the body it passes on still chunk-encoded.
		var framed int64
		framed, chunked = bodyFraming(pairs)
		if framed < 0 && (chunked || !c.stdinEndsNext(r.id)) {
			length = framed
		}
	}
	if length > c.lim.maxBody {
		return c.reject(r, http.StatusRequestEntityTooLarge)
	}
	if length > c.lim.bodyMemory && !c.srv.srv.AcquireSpill(length) {
		c.logf("request %d: body of %d bytes does not fit in MaxSpillBytes %d now", r.id, length, c.lim.maxSpill)
		return c.reject(r, http.StatusServiceUnavailable)
	}
	r.body.reset(length, c.lim.bodyMemory, c.lim.maxBody, c.srv.TempDir, &c.srv.srv)
	switch {
	case length == 0:
		req.Body = http.NoBody
	case length < 0:
		req.ContentLength = -1
		if chunked {
			// Cherokee passes a chunked body on as it came.
			r.chunked = true
			req.Body = &chunkedBody{httputil.NewChunkedReader(&r.body), &r.body}
			req.TransferEncoding = []string{"chunked"}
		}
	}
	r.req = req
	r.rw.Reset(&r.out, req, c.logf)
	r.body.starved = c.handOffFn
	c.mu.Lock()
	r.started = true
	inline := len(c.reqs) == 1 && !c.mpx
	c.mu.Unlock()
	c.handlers.Add(1)
	if inline && c.srv.srv.RunsInline() {
		ran, reader := c.runInline(r)
		if !ran {
			// r.started stays true: should a reader have taken over, an
			// abort or a closed connection leaves ending r to this goroutine.
			err = c.overloaded(r)
			c.handlers.Done()
		}
		if !reader {
			return errHandedOff
		}
		return err
	}
	if !c.srv.srv.Go(r.run) {
		c.handlers.Done()
		c.mu.Lock()
		r.started = false
		c.mu.Unlock()
		return c.overloaded(r)
	}
	return nil
}

// overloaded answers r, which the Pool refused (its queue is full), with a
// complete 503 response, as SCGI and AJP answer, rather than the
// specification's FCGI_OVERLOADED, which web servers handle badly: HAProxy
// 2.6 leaves a request so ended without an answer until its server timeout,
// and with a 503 before it, closes the connection, failing the requests it
// multiplexed there; nginx answers 502.
func (c *conn) overloaded(r *request) error {
	r.rw.Fail(http.StatusServiceUnavailable)
	r.rw.Finish()
	return c.endRequest(r, 0, statusRequestComplete)
}

// awaitingStdin reports whether a request's STDIN is still open.
func (c *conn) awaitingStdin() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.reqs {
		if r.paramsDone && !r.inputDone {
			return true
		}
	}
	return false
}

// stdinEndsNext reports whether the next record, already buffered, is the
// empty STDIN that ends request id's body.
func (c *conn) stdinEndsNext(id uint16) bool {
	if c.br.Buffered() < headerLen {
		return false
	}
	b, _ := c.br.Peek(headerLen)
	h := parseHeader((*[headerLen]byte)(b))
	return h.check() == nil && h.typ == typeStdin && h.id == id && h.contentLength == 0
}

// bodyFraming returns the length of the STDIN stream that params announce,
// -1 when CONTENT_LENGTH is absent or empty, and whether the web server
// passed a chunked body on still encoded (CONTENT_TRANSFER_ENCODING, as
// Cherokee sends it). A CONTENT_LENGTH that is present was parsed already.
func bodyFraming(pairs []gateway.Param) (length int64, chunked bool) {
	length = -1
	for _, p := range pairs {
		switch p.Name {
		case "CONTENT_LENGTH":
			if p.Value != "" {
				length = 0 // "0": the only value that reaches here
			}
		case "CONTENT_TRANSFER_ENCODING":
			chunked = strings.EqualFold(p.Value, "chunked")
		}
	}
	return length, chunked
}

// chunkedBody is a body decoded from chunked framing; closing it closes
// the STDIN buffer under it.
type chunkedBody struct {
	io.Reader
	body *body
}

func (b *chunkedBody) Close() error { return b.body.Close() }

// reject answers r with a bare status before its handler starts.
func (c *conn) reject(r *request, status int) error {
	if c.arriving == r {
		c.arriving = nil
	}
	r.rw.Reset(&r.out, nil, nil)
	r.rw.Fail(status)
	r.rw.Finish()
	return c.endRequest(r, 0, statusRequestComplete)
}

// endRequest sends what is left of r's output and its one FCGI_END_REQUEST,
// and forgets r. It runs on the handler's goroutine, or on the reader's for
// requests that never reached a handler.
func (c *conn) endRequest(r *request, appStatus uint32, status uint8) error {
	c.mu.Lock()
	if r.ended {
		c.mu.Unlock()
		return nil
	}
	r.ended = true
	// Forgotten before END_REQUEST goes out: the web server may reuse the
	// id, and send its next request, as soon as it reads it.
	delete(c.reqs, r.id)
	c.mu.Unlock()
	if r.acquired {
		r.acquired = false
		c.srv.srv.ReleaseRequest()
	}

	b := r.out.buf
	switch {
	case r.aborted.Load():
		// Nobody wants what the handler wrote since.
		b = b[:0]
	case status == statusRequestComplete:
		b, _ = appendHeader(b, typeStdout, r.id, 0)
	}
	b = appendEndRequest(b, r.id, appStatus, status)
	r.out.buf = b[:0]
	err := c.write(b)

	// Idle only once the response is out, so Shutdown cannot cut it off.
	c.mu.Lock()
	c.inflight--
	idle := c.inflight == 0
	closeNow := idle && c.closeWhenIdle
	if idle {
		c.sc.SetIdle()
		if c.inline.Load()%2 == 0 && !c.closing.Load() {
			// The reader may be waiting with no deadline; idle now, the
			// connection gets the idle one. (A reader running a handler
			// sets its own before it reads again.)
			c.rdMode, c.rdAt = deadlineIdle, c.sc.QuietSince().Add(c.lim.idleTO)
			c.sc.SetReadDeadline(c.rdAt)
		}
	}
	c.mu.Unlock()
	if closeNow {
		c.shutWrite()
	}
	c.release(r)
	if err != nil && !c.closing.Load() {
		return err
	}
	return nil
}

func (c *conn) stdin(h header) error {
	n := int(h.contentLength)
	c.mu.Lock()
	r := c.reqs[h.id]
	if r != nil && r.paramsDone && n == 0 && r.chunked && r.stdinBytes == 0 {
		// Cherokee's empty record ahead of a chunked body, which is never
		// empty (its last chunk, "0\r\n", at least): not the end of STDIN.
		c.mu.Unlock()
		return nil
	}
	if r != nil && r.paramsDone && n == 0 {
		// The end of STDIN, looked up and marked under one lock.
		r.inputDone = true
		r.body.end()
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	if r == nil {
		_, err := c.br.Discard(n)
		return err
	}
	if !r.paramsDone {
		return protoErrorf("stdin record for request %d before the end of its params", h.id)
	}
	for n > 0 {
		if c.br.Buffered() == 0 {
			// A long record arriving slowly: the body's rate deadline
			// moves with the bytes that came.
			c.setReadDeadline(true)
		}
		if _, err := c.br.Peek(1); err != nil {
			return err
		}
		k := min(n, c.br.Buffered())
		p, _ := c.br.Peek(k)
		c.mu.Lock()
		if c.reqs[h.id] == r && r.started {
			r.body.write(p)
		}
		c.mu.Unlock()
		c.br.Discard(k)
		n -= k
		r.stdinBytes += int64(k)
	}
	return nil
}

func (c *conn) abort(h header) error {
	if _, err := c.br.Discard(int(h.contentLength)); err != nil {
		return err
	}
	c.mu.Lock()
	r := c.reqs[h.id]
	if r != nil && r.started {
		// The handler ends the request; output it still writes is dropped.
		r.aborted.Store(true)
		r.cancel()
		r.body.fail(errAborted)
		r = nil
	}
	c.mu.Unlock()
	if r != nil {
		if c.arriving == r {
			c.arriving = nil
		}
		return c.endRequest(r, 0, statusRequestComplete)
	}
	return nil
}

// getValues answers FCGI_GET_VALUES with the variables asked for that the
// server knows, and only those.
func (c *conn) getValues(h header) error {
	if h.id != 0 {
		return protoErrorf("get-values record with request id %d, want 0", h.id)
	}
	content := make([]byte, h.contentLength)
	if _, err := io.ReadFull(c.br, content); err != nil {
		return err
	}
	pairs, err := parsePairs(nil, string(content))
	if err != nil {
		return protoErrorf("get-values: %v", err)
	}
	var body []byte
	for _, p := range pairs {
		switch p.Name {
		case "FCGI_MAX_CONNS":
			body = appendPair(body, p.Name, strconv.Itoa(c.lim.maxConns))
		case "FCGI_MAX_REQS":
			body = appendPair(body, p.Name, strconv.Itoa(c.lim.advertisedReqs))
		case "FCGI_MPXS_CONNS":
			body = appendPair(body, p.Name, "1")
		}
	}
	b := c.mbuf()
	if len(body) == 0 {
		b, _ = appendHeader(b, typeGetValuesResult, 0, 0)
	} else {
		b = appendRecords(b, typeGetValuesResult, 0, body)
	}
	return c.writeManagement(b)
}
