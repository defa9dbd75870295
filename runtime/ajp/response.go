package ajp

import (
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
)

// sniffLen is how much of the body http.DetectContentType looks at.
const sniffLen = 512

// response is the http.ResponseWriter of one request, behaving as
// net/http's does where AJP13 allows (and as gateway.ResponseWriter does for
// FastCGI and SCGI):
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
	status int
	head   bool // HEAD request: the body is counted, never sent

	// fields holds the encoded headers, fixed at WriteHeader; nfields
	// counts them.
	fields  []byte
	nfields int

	wroteHeader, sentHeader, bodyAllowed bool
	hasType, hasTE, hasEncoding          bool

	declared int64 // the handler's Content-Length; -1 when none
	written  int64 // body bytes the handler wrote
	buf      []byte
	err      error // the first write error; every later write returns it
	done     bool  // the handler has returned
}

// errHandlerDone is what a ResponseWriter returns once its handler has
// returned.
var errHandlerDone = errors.New("ajp: ResponseWriter used after its handler returned")

// newResponse lends c's buffers to a response for the next request.
func (c *conn) newResponse(head bool) *response {
	return &response{c: c, header: make(http.Header), head: head, fields: c.fields[:0], buf: c.buf[:0], declared: -1}
}

// release gives the buffers back to the connection and closes w.
func (w *response) release() {
	w.c.fields = w.fields[:0]
	w.fields, w.buf = nil, nil
	w.done = true
	w.err = errHandlerDone
}

func (w *response) Header() http.Header { return w.header }

func (w *response) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.done {
		return
	}
	if w.wroteHeader {
		_, file, line, _ := runtime.Caller(1)
		w.c.logf("superfluous WriteHeader(%d) call from %s:%d", code, file, line)
		return
	}
	if code < 200 {
		// No AJP13 packet carries an interim response, and 101 cannot
		// work through a proxy that owns the client connection.
		return
	}
	w.wroteHeader = true
	w.status = code
	w.bodyAllowed = code != http.StatusNoContent && code != http.StatusNotModified
	h := w.header
	e := encoder{b: w.fields[:0]}
	n := 0
	for name, values := range h {
		if !validToken(name) || strings.HasPrefix(name, http.TrailerPrefix) {
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
	_, w.hasType = h["Content-Type"]
	_, w.hasTE = h["Transfer-Encoding"]
	if ce := h["Content-Encoding"]; len(ce) > 0 && ce[0] != "" {
		w.hasEncoding = true
	}
	if cl := h["Content-Length"]; len(cl) > 0 {
		if n, err := strconv.ParseInt(strings.TrimSpace(cl[0]), 10, 64); err == nil && n >= 0 {
			w.declared = n
		}
	}
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
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if !w.bodyAllowed {
		return 0, http.ErrBodyNotAllowed
	}
	if w.declared >= 0 && w.written+int64(len(p)) > w.declared {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if w.head {
		// Keep what sniffing needs; the rest of a HEAD body goes nowhere.
		if !w.sentHeader && len(w.buf) < sniffLen {
			w.buf = append(w.buf, p[:min(len(p), sniffLen-len(w.buf))]...)
		}
		return len(p), nil
	}
	n := len(p)
	for len(p) > 0 && w.err == nil {
		if len(w.buf) == 0 && len(p) >= cap(w.buf) && w.sentHeader {
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
	if w.wroteHeader && w.err == nil && !w.done && w.bodyAllowed && !w.head && len(w.buf)+len(s) < cap(w.buf) &&
		(w.declared < 0 || w.written+int64(len(s)) <= w.declared) {
		w.buf = append(w.buf, s...)
		w.written += int64(len(s))
		return len(s), nil
	}
	return w.Write([]byte(s))
}

// emit sends the headers if they are not out yet, then data as one
// SEND_BODY_CHUNK.
func (w *response) emit(data []byte) {
	if !w.sentHeader {
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
	if w.done {
		return errHandlerDone
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return w.err
	}
	if !w.sentHeader {
		w.sendHeader(false)
	}
	if len(w.buf) > 0 && !w.head {
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
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.sentHeader {
		w.sendHeader(true)
	}
	if len(w.buf) > 0 && !w.head && w.err == nil {
		w.emit(w.buf)
	}
	w.buf = w.buf[:0]
	if w.declared >= 0 && w.written < w.declared && !w.head && w.err == nil {
		// The web server was promised more bytes than it got; only a
		// closed connection tells it the response is cut short.
		w.c.fail(fmt.Errorf("ajp: handler wrote %d of the %d bytes its Content-Length declared", w.written, w.declared))
	}
	if w.err != nil {
		w.c.fail(w.err)
	}
}

// fail replaces a response of which nothing was sent with a plain-text one
// with status code, as after a handler panic; false when it is too late.
func (w *response) fail(code int) bool {
	if w.sentHeader {
		return false
	}
	*w = response{c: w.c, header: make(http.Header), head: w.head, fields: w.fields[:0], buf: w.buf[:0], declared: -1}
	w.header["Content-Type"] = []string{"text/plain; charset=utf-8"}
	w.header["X-Content-Type-Options"] = []string{"nosniff"}
	w.WriteHeader(code)
	if !w.head {
		w.buf = append(w.buf, http.StatusText(code)...)
		w.buf = append(w.buf, '\n')
		w.written = int64(len(w.buf))
	}
	return true
}

// sendHeader appends SEND_HEADERS to the connection's output. final says
// the handler is done, so the body's length is known. Headers that do not
// fit one packet cannot be sent at all: a bare 500 goes instead, and the
// handler's writes fail.
func (w *response) sendHeader(final bool) {
	w.sentHeader = true
	c := w.c
	start := len(c.out)
	e := encoder{b: c.out}
	e.begin()
	e.byte(typeSendHeaders)
	e.uint16(uint16(w.status))
	if text := http.StatusText(w.status); text != "" {
		e.string(text)
	} else {
		e.string("Status " + strconv.Itoa(w.status))
	}
	n := w.nfields
	countAt := len(e.b)
	e.uint16(0)
	e.b = append(e.b, w.fields...)
	if w.bodyAllowed && !w.hasType && !w.hasEncoding && len(w.buf) > 0 {
		e.uint16(responseHeaderCodes["Content-Type"])
		e.string(http.DetectContentType(w.buf[:min(len(w.buf), sniffLen)]))
		n++
	}
	if final && w.bodyAllowed && w.declared < 0 && !w.hasTE && (!w.head || w.written > 0) {
		e.uint16(responseHeaderCodes["Content-Length"])
		at := len(e.b)
		e.uint16(0)
		e.b = strconv.AppendInt(e.b, w.written, 10)
		digits := len(e.b) - at - 2
		e.b[at], e.b[at+1] = byte(digits>>8), byte(digits)
		e.byte(0)
		n++
	}
	if size := len(e.b) - start; size > c.packetSize || n > 0xFFFF {
		err := fmt.Errorf("ajp: response headers of %d bytes exceed packet size %d", size, c.packetSize)
		c.logf("%v; sending 500 instead", err)
		c.out = appendStatusOnly(c.out[:start], http.StatusInternalServerError)
		w.err = err
		w.bodyAllowed = false
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
