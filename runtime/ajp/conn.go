package ajp

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/appgen/appgen/runtime/internal/serve"
)

// conn is one connection from the web server. AJP13 never multiplexes:
// requests follow one another, so one goroutine reads a request, runs its
// handler, and writes its response, and the connection's buffers are
// reused by every request on it.
type conn struct {
	srv        *Server
	sc         *serve.Conn
	rwc        net.Conn
	peer       string
	pr         *packetReader
	packetSize int
	out        []byte // encoded packets not yet written
	// fields and buf are lent to each request's response: its encoded
	// headers, and the body bytes of its next SEND_BODY_CHUNK.
	fields, buf []byte
	fr          forwardRequest // reused: its header slice keeps its capacity

	// broken says the stream is out of step (or the response cut short):
	// the request ends with END_RESPONSE reuse=0 and the connection closes.
	broken bool
	// reason is why, logged once when the connection closes.
	reason error
	// inHead says the packet being read began: its rest is under
	// ReadHeaderTimeout, and a timeout is the peer's fault, not idleness.
	inHead bool
}

// errQuiet ends a connection whose reason is already logged (a handler
// panic, with its stack) or is no news (http.ErrAbortHandler).
var errQuiet = errors.New("ajp: connection aborted")

// logf logs one line about the connection, as "ajp: peer: reason".
func (c *conn) logf(format string, args ...any) {
	c.sc.Logf("%s", strings.TrimPrefix(fmt.Sprintf(format, args...), "ajp: "))
}

// fail marks the connection broken for the reason given, keeping the first.
func (c *conn) fail(err error) {
	c.broken = true
	if c.reason == nil {
		c.reason = err
	}
}

func (c *conn) maxBodyData() int { return c.packetSize - headerLen - 2 }

// setBodyDeadline bounds the wait for the next body packet: ReadTimeout,
// and MinBodyRate over the body that began at start and has brought n
// bytes so far.
func (c *conn) setBodyDeadline(start time.Time, n int64) {
	dl := time.Now().Add(c.srv.readTimeout())
	_ = c.rwc.SetReadDeadline(serve.Earliest(dl, serve.BodyDeadline(start, n, c.srv.minBodyRate())))
}

// setHeadDeadline, called once a packet's header is read, bounds the rest
// of the packet by ReadHeaderTimeout.
func (c *conn) setHeadDeadline() {
	c.inHead = true
	_ = c.rwc.SetReadDeadline(time.Now().Add(c.srv.headerTimeout()))
}

// flush writes the pending packets.
func (c *conn) flush() error {
	if len(c.out) == 0 {
		return nil
	}
	if d := c.srv.writeTimeout(); d > 0 {
		_ = c.rwc.SetWriteDeadline(time.Now().Add(d))
	}
	_, err := c.rwc.Write(c.out)
	c.out = c.out[:0]
	if err != nil {
		err = fmt.Errorf("ajp: writing to web server: %w", err)
		c.fail(err)
	}
	return err
}

// serve runs the connection until the peer closes it, a request breaks it,
// or Shutdown closes it between requests. The returned error is nil for a
// clean end, or the one-line reason the connection was dropped.
func (c *conn) serve() error {
	idle := c.srv.idleTimeout()
	_ = c.rwc.SetReadDeadline(c.sc.QuietSince().Add(idle))
	if err := c.sc.WaitInput(); err != nil {
		return nil // closed, timed out or shut down before a request
	}
	ps := c.packetSize
	c.pr = newPacketReader(c.rwc, ps)
	c.pr.began = c.setHeadDeadline
	c.out = make([]byte, 0, 2*ps)
	c.buf = make([]byte, 0, ps-bodyChunkOverhead)
	for {
		if c.srv.srv.ShuttingDown() {
			return nil
		}
		// From the last request, not from now: CPINGs do not keep an
		// otherwise unused connection open.
		_ = c.rwc.SetReadDeadline(c.sc.QuietSince().Add(idle))
		c.inHead = false
		payload, err := c.pr.next()
		if err != nil {
			if err == io.EOF || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if c.inHead {
					return fmt.Errorf("ajp: request packet not complete within ReadHeaderTimeout %v", c.srv.headerTimeout())
				}
				// An idle web-server connection timing out is routine:
				// mod_proxy_ajp reopens pooled connections it finds closed.
				return nil
			}
			return err
		}
		if len(payload) == 0 {
			return errors.New("ajp: empty packet, want a prefix code")
		}
		switch payload[0] {
		case typeCPing, typePing:
			// A management packet: the connection stays as it was (New
			// or Idle), so it is still the first closed to make room.
			c.out = appendCPong(c.out)
			if err := c.flush(); err != nil {
				return err
			}
			continue
		case typeForwardRequest:
			if !c.sc.SetActive() {
				return nil
			}
			c.request(payload)
			if c.broken {
				return c.reason
			}
		case typeShutdown:
			return errors.New("ajp: SHUTDOWN packet refused; close the connection instead")
		default:
			return fmt.Errorf("ajp: packet type %d, want FORWARD_REQUEST (2) or CPING (10)", payload[0])
		}
		c.sc.SetIdle()
	}
}

// request serves one FORWARD_REQUEST whose payload is p.
func (c *conn) request(p []byte) {
	s := c.srv
	fr := &c.fr
	err := fr.decode(p)
	if err == nil && s.Secret != "" {
		if !fr.hasSecret {
			err = refuse(http.StatusForbidden, "ajp: request has no secret attribute, want the configured Secret")
		} else if subtle.ConstantTimeCompare([]byte(fr.secret), []byte(s.Secret)) != 1 {
			err = refuse(http.StatusForbidden, "ajp: request secret does not match the configured Secret")
		}
	}
	if err != nil {
		var re *requestError
		if errors.As(err, &re) {
			// The request was framed well enough to answer: tell the
			// client why, then drop the connection, since a body that
			// may follow can no longer be trusted to be what it says.
			c.plain(re.status)
			c.fail(err)
			c.end()
			return
		}
		c.fail(err)
		return
	}

	// A request without a body needs no body reader: nothing is in
	// flight and nothing can be asked for.
	var b *body
	var rb io.ReadCloser = http.NoBody
	switch {
	case fr.chunked:
		b = &body{c: c, remaining: -1, limit: s.maxBodyBytes(), start: time.Now()}
	case fr.contentLength > 0:
		b = &body{c: c, remaining: fr.contentLength, limit: s.maxBodyBytes(), inFlight: true, start: time.Now()}
	}
	if b != nil {
		rb = b
		defer b.finish()
	}

	switch {
	case len(p) > s.maxHeaderBytes(c.packetSize):
		c.logf("forward request of %d bytes exceeds MaxHeaderBytes %d", len(p), s.maxHeaderBytes(c.packetSize))
		c.answer(b, http.StatusRequestHeaderFieldsTooLarge)
		return
	case fr.contentLength > s.maxBodyBytes():
		c.answer(b, http.StatusRequestEntityTooLarge)
		return
	}
	if !s.srv.AcquireRequest() {
		c.answer(b, http.StatusServiceUnavailable)
		return
	}
	defer s.srv.ReleaseRequest()

	rctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := fr.httpRequest(rctx, rb, s.scriptName())
	if err != nil {
		var re *requestError
		if errors.As(err, &re) {
			c.plain(re.status)
		}
		c.fail(err)
		c.end()
		return
	}
	w := c.newResponse(r.Method == http.MethodHead)
	defer w.release()
	if s.Pool == nil {
		// The common case, without the closure a Pool needs.
		c.runHandler(w, r)
	} else if !s.srv.Run(func() { c.runHandler(w, r) }) {
		c.answer(b, http.StatusServiceUnavailable)
		return
	}
	cancel()
	if b != nil {
		b.finish()
	}
	c.end()
}

// runHandler calls the handler and completes its response. A panic before
// anything was sent becomes a 500 and the connection goes on; after the
// headers went out, the response can only be cut short, which a closed
// connection (reuse=0) tells the web server.
func (c *conn) runHandler(w *response, r *http.Request) {
	if !c.sc.CallHandler(c.srv.Handler, w, r) {
		w.finish()
		return
	}
	if !w.fail(http.StatusInternalServerError) {
		c.fail(errQuiet)
		return
	}
	w.finish()
}

// answer replies with a bare status without calling the handler, keeping
// the connection: the body packet in flight, if any, is swallowed first.
func (c *conn) answer(b *body, status int) {
	if b != nil {
		b.finish()
	}
	c.plain(status)
	c.end()
}

// plain appends a response with status and its status text as the body.
func (c *conn) plain(status int) {
	w := c.newResponse(false)
	w.fail(status)
	w.finish()
	w.release()
}

// end appends END_RESPONSE and writes everything pending. During Shutdown
// it says not to reuse the connection, so the web server stops sending on
// it before it closes.
func (c *conn) end() {
	c.out = appendEndResponse(c.out, !c.broken && !c.srv.srv.ShuttingDown())
	_ = c.flush()
}
