package ajp

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/appgen/appgen/runtime/internal/respond"
)

// response is the http.ResponseWriter of one request, behaving as
// net/http's does where AJP13 allows (and as the CGI writer in
// runtime/internal/gateway does for FastCGI and SCGI):
//
//   - Headers are fixed at WriteHeader. Body bytes collect in buf until a
//     SEND_BODY_CHUNK packet is full, so small writes never become small
//     packets; a handler that sets no Content-Type gets one sniffed, and a
//     response that ends before buf fills gets a Content-Length.
//   - 1xx codes are ignored (AJP13 has no interim responses); writes to a
//     204 or 304 fail with http.ErrBodyNotAllowed, writes past a declared
//     Content-Length with http.ErrContentLength; a HEAD body is counted,
//     not sent.
//   - Flush sends what is buffered and an empty SEND_BODY_CHUNK, which
//     mod_proxy_ajp takes as "flush to the client".
//
// Packets collect in the connection's output buffer, written to the socket
// when a packet size of them is ready, on Flush, and at the end. The
// buffers belong to the connection and are lent to each response in turn;
// a handler that keeps its ResponseWriter past its return finds it closed
// (errHandlerDone) rather than writing into the next request's response.
type response struct {
	c      *conn
	header http.Header

	// fields holds the encoded headers, fixed at WriteHeader; nfields
	// counts them.
	fields  []byte
	nfields int

	st  respond.State // net/http's rules; closed once the handler returned
	buf []byte
	err error // the first write error; every later write returns it
}

// errHandlerDone is what a ResponseWriter returns once its handler has
// returned.
var errHandlerDone = errors.New("ajp: ResponseWriter used after its handler returned")

// newResponse lends c's buffers to a response for the next request.
func (c *conn) newResponse(head bool) *response {
	w := &response{c: c, header: make(http.Header), fields: c.fields[:0], buf: c.buf[:0]}
	// AJP13 cannot carry 101: the web server owns the client connection.
	w.st.Reset(head, false)
	return w
}

// release gives the buffers back to the connection and closes w.
func (w *response) release() {
	w.c.fields = w.fields[:0]
	w.fields, w.buf = nil, nil
	w.st.Close()
	w.err = errHandlerDone
}

func (w *response) Header() http.Header { return w.header }

func (w *response) WriteHeader(code int) {
	h := w.header
	if !w.st.WriteHeader(code, h, w.c.logf) {
		return
	}
	e := encoder{b: w.fields[:0]}
	n := 0
	for name, values := range h {
		if !respond.IsToken(name) || strings.HasPrefix(name, http.TrailerPrefix) {
			// net/http drops such names too: sent, they would let a
			// handler corrupt the web server's response.
			continue
		}
		code, coded := responseHeaderCodes[name]
		for _, v := range values {
			if coded {
				e.uint16(code)
			} else {
				e.string(name)
			}
			e.headerValue(v)
			n++
		}
	}
	w.fields, w.nfields = e.b, n
}

// headerValue appends v as a string with CR and LF turned into spaces, so
// a handler cannot split the response, as net/http does.
func (e *encoder) headerValue(v string) {
	v = strings.TrimSpace(v)
	if len(v) >= nullString {
		// Too long for any packet; sendHeader reports the overflow.
		v = v[:nullString-1]
	}
	start := len(e.b) + 2
	e.string(v)
	if strings.ContainsAny(v, "\r\n") {
		for i := start; i < start+len(v); i++ {
			if e.b[i] == '\r' || e.b[i] == '\n' {
				e.b[i] = ' '
			}
		}
	}
}

func (w *response) Write(p []byte) (int, error) {
	if !w.st.WroteHeader() {
		w.WriteHeader(http.StatusOK)
	}
	if n, done, err := w.st.Admit(&w.buf, p, w.err); done {
		return n, err
	}
	n := len(p)
	for len(p) > 0 && w.err == nil {
		if len(w.buf) == 0 && len(p) >= cap(w.buf) && w.st.Sent {
			// A whole packet's worth: frame it straight from p.
			w.emit(p[:cap(w.buf)])
			p = p[cap(w.buf):]
			continue
		}
		k := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+k]
		p = p[k:]
		if len(w.buf) == cap(w.buf) {
			w.emit(w.buf)
			w.buf = w.buf[:0]
		}
	}
	if w.err != nil {
		return n - len(p), w.err
	}
	return n, nil
}

// WriteString is Write for a string, so io.WriteString need not copy it
// when it fits the buffer.
func (w *response) WriteString(s string) (int, error) {
	// The first write of a response fixes its header here, as Write would,
	// so that it too takes the path that does not copy s.
	if !w.st.WroteHeader() {
		w.WriteHeader(http.StatusOK)
	}
	if len(w.buf)+len(s) < cap(w.buf) && w.err == nil && w.st.Take(len(s)) {
		w.buf = append(w.buf, s...)
		return len(s), nil
	}
	return w.Write([]byte(s))
}

// emit sends the headers if they are not out yet, then data as one
// SEND_BODY_CHUNK.
func (w *response) emit(data []byte) {
	if !w.st.Sent {
		w.sendHeader(false)
	}
	if w.err != nil {
		return
	}
	c := w.c
	c.out = appendBodyChunk(c.out, data)
	if len(c.out) >= c.packetSize {
		if err := c.flush(); err != nil {
			w.err = err
		}
	}
}

// Flush sends what the handler has written so far and asks the web server
// to pass it on.
func (w *response) Flush() { _ = w.FlushError() }

// FlushError is Flush for http.ResponseController, with the write error.
func (w *response) FlushError() error {
	if w.st.Closed() {
		return errHandlerDone
	}
	if !w.st.WroteHeader() {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return w.err
	}
	if !w.st.Sent {
		w.sendHeader(false)
	}
	if len(w.buf) > 0 && !w.st.Head {
		w.emit(w.buf)
	}
	w.buf = w.buf[:0]
	if w.err != nil {
		return w.err
	}
	w.c.out = appendBodyChunk(w.c.out, nil)
	if err := w.c.flush(); err != nil {
		w.err = err
	}
	return w.err
}

// finish completes a response whose handler returned normally.
func (w *response) finish() {
	if !w.st.WroteHeader() {
		w.WriteHeader(http.StatusOK)
	}
	if !w.st.Sent {
		w.sendHeader(true)
	}
	if len(w.buf) > 0 && !w.st.Head && w.err == nil {
		w.emit(w.buf)
	}
	w.buf = w.buf[:0]
	if w.st.Short() && w.err == nil {
		// The web server was promised more bytes than it got; only a
		// closed connection tells it the response is cut short.
		w.c.fail(fmt.Errorf("ajp: handler wrote %d of the %d bytes its Content-Length declared", w.st.Written, w.st.Declared))
	}
	if w.err != nil {
		w.c.fail(w.err)
	}
}

// fail replaces a response of which nothing was sent with a plain-text one
// with status code, as after a handler panic; false when it is too late.
func (w *response) fail(code int) bool {
	if w.st.Sent {
		return false
	}
	// A new map, not the old one cleared: the handler may still hold it.
	*w = response{c: w.c, header: make(http.Header), st: w.st, fields: w.fields[:0], buf: w.buf[:0]}
	w.st.Fail(w.header)
	w.WriteHeader(code)
	w.buf = w.st.FailBody(w.buf)
	return true
}

// sendHeader appends SEND_HEADERS to the connection's output. final says
// the handler is done, so the body's length is known. Headers that do not
// fit one packet cannot be sent at all: a bare 500 goes instead, and the
// handler's writes fail.
func (w *response) sendHeader(final bool) {
	w.st.Sent = true
	c := w.c
	start := len(c.out)
	e := encoder{b: c.out}
	e.begin()
	e.byte(typeSendHeaders)
	status := w.st.Status
	e.uint16(uint16(status))
	if text := http.StatusText(status); text != "" {
		e.string(text)
	} else {
		e.string("Status " + strconv.Itoa(status))
	}
	n := w.nfields
	countAt := len(e.b)
	e.uint16(0)
	e.b = append(e.b, w.fields...)
	if ct := w.st.SniffedType(w.buf); ct != "" {
		e.uint16(responseHeaderCodes["Content-Type"])
		e.string(ct)
		n++
	}
	if w.st.AddLength(final) {
		e.uint16(responseHeaderCodes["Content-Length"])
		at := len(e.b)
		e.uint16(0)
		e.b = strconv.AppendInt(e.b, w.st.Written, 10)
		digits := len(e.b) - at - 2
		e.b[at], e.b[at+1] = byte(digits>>8), byte(digits)
		e.byte(0)
		n++
	}
	if size := len(e.b) - start; size > c.packetSize || n > 0xFFFF {
		err := fmt.Errorf("ajp: response headers of %d bytes exceed packet size %d", size, c.packetSize)
		c.logf("%v; sending 500 instead", err)
		c.out = appendStatusOnly(c.out[:start], http.StatusInternalServerError)
		// Every later write returns err before it looks at the status.
		w.err = err
		return
	}
	e.b[countAt], e.b[countAt+1] = byte(n>>8), byte(n)
	e.finish(start)
	c.out = e.b
}

// appendStatusOnly appends SEND_HEADERS with status and an empty body's
// Content-Length.
func appendStatusOnly(b []byte, status int) []byte {
	e := encoder{b: b}
	start := e.begin()
	e.byte(typeSendHeaders)
	e.uint16(uint16(status))
	e.string(http.StatusText(status))
	e.uint16(1)
	e.uint16(responseHeaderCodes["Content-Length"])
	e.string("0")
	e.finish(start)
	return e.b
}

var (
	_ http.ResponseWriter = (*response)(nil)
	_ http.Flusher        = (*response)(nil)
)
