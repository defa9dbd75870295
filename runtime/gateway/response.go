package gateway

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
)

// bufSize is how much body a ResponseWriter holds before it sends the
// header: enough for most pages to go out whole, with a Content-Length, in
// one write.
const bufSize = 4096

// sniffLen is how much of the body http.DetectContentType looks at.
const sniffLen = 512

// ResponseWriter is an http.ResponseWriter that writes a CGI response
// ("Status: 404 Not Found\r\n", the headers, a blank line, the body) to an
// io.Writer: FastCGI wraps the bytes in STDOUT records, SCGI sends them as
// they are. It behaves as net/http's does where the CGI format allows:
//
//   - The body is buffered (4 KiB) before anything is sent, so a handler that
//     sets no Content-Type gets one sniffed from the first 512 bytes
//     (http.DetectContentType), unless it set a Content-Encoding; and a
//     response that fits and sets no Content-Length gets one.
//   - WriteHeader with a code outside 100-999 panics; 1xx codes other than
//     101 are ignored (a CGI response has no interim responses); a second
//     call is logged as superfluous and has no effect. Headers changed after
//     WriteHeader are not sent.
//   - Writes to a 1xx, 204 or 304 response fail with http.ErrBodyNotAllowed;
//     writes past a declared Content-Length fail with http.ErrContentLength;
//     the body of a response to HEAD is counted but not sent.
//   - Flush sends what is buffered and, when the destination has a
//     Flush() error method, calls it.
//
// The zero value is not usable: make one with NewResponseWriter, or reuse
// one with Reset. It is not safe for concurrent use, as net/http's is not.
type ResponseWriter struct {
	dst  io.Writer
	logf func(format string, args ...any)

	header http.Header
	hbuf   []byte // status line and headers, fixed at WriteHeader
	buf    []byte // body not yet sent

	status        int
	written       int64 // body bytes the handler wrote
	contentLength int64 // declared Content-Length, -1 when none
	err           error // first error from dst, returned from then on

	head, wroteHeader, sent, bodyAllowed bool
	hasType, hasTE, hasEncoding          bool
}

// NewResponseWriter returns a ResponseWriter answering r on dst. logf, when
// not nil, receives the handler's mistakes (a superfluous WriteHeader); the
// protocol servers pass one that prefixes the peer's address.
func NewResponseWriter(dst io.Writer, r *http.Request, logf func(format string, args ...any)) *ResponseWriter {
	w := new(ResponseWriter)
	w.Reset(dst, r, logf)
	return w
}

// Reset makes w ready to answer r on dst, keeping its buffers and header map
// so that servers can pool ResponseWriters.
func (w *ResponseWriter) Reset(dst io.Writer, r *http.Request, logf func(format string, args ...any)) {
	h := w.header
	clear(h)
	*w = ResponseWriter{
		dst:           dst,
		logf:          logf,
		header:        h,
		hbuf:          w.hbuf[:0],
		buf:           w.buf[:0],
		contentLength: -1,
		head:          r != nil && r.Method == http.MethodHead,
	}
}

// Header returns the header map that WriteHeader sends.
func (w *ResponseWriter) Header() http.Header {
	if w.header == nil {
		w.header = make(http.Header)
	}
	return w.header
}

// WriteHeader fixes the status and headers of the response, following
// net/http's rules (see ResponseWriter).
func (w *ResponseWriter) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.wroteHeader {
		if w.logf != nil {
			_, file, line, _ := runtime.Caller(1)
			w.logf("superfluous WriteHeader(%d) call from %s:%d", code, file, line)
		}
		return
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		return
	}
	w.wroteHeader = true
	w.status = code
	w.bodyAllowed = code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
	h := w.header

	b := append(w.hbuf[:0], "Status: "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	if text := http.StatusText(code); text != "" {
		b = append(b, text...)
	} else {
		b = append(b, "status code "...)
		b = strconv.AppendInt(b, int64(code), 10)
	}
	b = append(b, "\r\n"...)
	for k, vs := range h {
		if !validHeaderName(k) || strings.HasPrefix(k, http.TrailerPrefix) {
			continue
		}
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, ": "...)
			b = appendHeaderValue(b, v)
			b = append(b, "\r\n"...)
		}
	}
	w.hbuf = b

	_, w.hasType = h["Content-Type"]
	_, w.hasTE = h["Transfer-Encoding"]
	if ce := h["Content-Encoding"]; len(ce) > 0 && ce[0] != "" {
		w.hasEncoding = true
	}
	if cl := h["Content-Length"]; len(cl) > 0 {
		if n, err := strconv.ParseInt(strings.TrimSpace(cl[0]), 10, 64); err == nil && n >= 0 {
			w.contentLength = n
		}
	}
}

// Write adds p to the body, sending the header first when the buffer fills.
func (w *ResponseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if !w.bodyAllowed {
		return 0, http.ErrBodyNotAllowed
	}
	if w.contentLength >= 0 && w.written+int64(len(p)) > w.contentLength {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if w.head {
		// Keep what sniffing needs; the rest of a HEAD body goes nowhere.
		if !w.sent && len(w.buf) < sniffLen {
			w.buf = append(w.buf, p[:min(len(p), sniffLen-len(w.buf))]...)
		}
		return len(p), nil
	}
	if len(w.buf)+len(p) <= bufSize {
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	total := len(p)
	if !w.sent && len(w.buf) < sniffLen {
		// Sniff from the start of the body, not only what was buffered.
		k := min(len(p), sniffLen-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
	}
	if err := w.writeSlow(p); err != nil {
		return 0, err
	}
	return total, nil
}

// writeSlow sends the buffer (and the header, the first time) and then p,
// directly when it is large.
func (w *ResponseWriter) writeSlow(p []byte) error {
	if err := w.send(false); err != nil {
		return err
	}
	if len(p) >= bufSize {
		if _, err := w.dst.Write(p); err != nil {
			w.err = err
			return err
		}
		return nil
	}
	w.buf = append(w.buf, p...)
	return nil
}

// WriteString is Write for a string, so io.WriteString need not copy it.
func (w *ResponseWriter) WriteString(s string) (int, error) {
	if len(w.buf)+len(s) <= bufSize && w.wroteHeader && w.bodyAllowed && !w.head && w.err == nil &&
		(w.contentLength < 0 || w.written+int64(len(s)) <= w.contentLength) {
		w.buf = append(w.buf, s...)
		w.written += int64(len(s))
		return len(s), nil
	}
	return w.Write([]byte(s))
}

// send writes the header if it has not gone yet and then the buffered body.
// final says the handler is done, so a Content-Length can be added.
func (w *ResponseWriter) send(final bool) error {
	if w.err != nil {
		return w.err
	}
	out := w.buf
	if !w.sent {
		w.sent = true
		b := w.hbuf
		if w.bodyAllowed && !w.hasType && !w.hasEncoding && len(w.buf) > 0 {
			b = append(b, "Content-Type: "...)
			b = append(b, http.DetectContentType(w.buf[:min(len(w.buf), sniffLen)])...)
			b = append(b, "\r\n"...)
		}
		if final && w.bodyAllowed && w.contentLength < 0 && !w.hasTE && (!w.head || w.written > 0) {
			b = append(b, "Content-Length: "...)
			b = strconv.AppendInt(b, w.written, 10)
			b = append(b, "\r\n"...)
		}
		b = append(b, "\r\n"...)
		if !w.head {
			b = append(b, w.buf...)
		}
		w.hbuf = b
		out = b
	} else if w.head {
		out = nil
	}
	w.buf = w.buf[:0]
	if len(out) == 0 {
		return nil
	}
	if _, err := w.dst.Write(out); err != nil {
		w.err = err
		return err
	}
	return nil
}

// FlushError sends the header and buffered body now; http.ResponseController
// calls it.
func (w *ResponseWriter) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if err := w.send(false); err != nil {
		return err
	}
	if f, ok := w.dst.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			w.err = err
			return err
		}
	}
	return nil
}

// Flush is http.Flusher's FlushError without the error.
func (w *ResponseWriter) Flush() { _ = w.FlushError() }

// Finish completes the response after the handler returns: a handler that
// wrote nothing gets 200 with an empty body. It does not flush dst.
func (w *ResponseWriter) Finish() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.send(true)
}

// Sent reports whether any of the response has been written to dst.
func (w *ResponseWriter) Sent() bool { return w.sent }

// Status returns the status the handler chose, 0 before WriteHeader or Write.
func (w *ResponseWriter) Status() int { return w.status }

// Fail replaces a response that has not been sent with a plain-text one
// with status code, as servers do after a handler panics. It reports false,
// changing nothing, when part of the response has already gone.
func (w *ResponseWriter) Fail(code int) bool {
	if w.sent {
		return false
	}
	clear(w.header)
	w.wroteHeader, w.hasType, w.hasTE, w.hasEncoding = false, false, false, false
	w.contentLength, w.written = -1, 0
	w.buf = w.buf[:0]
	h := w.Header()
	h["Content-Type"] = []string{"text/plain; charset=utf-8"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	w.WriteHeader(code)
	if w.bodyAllowed && !w.head {
		w.buf = append(w.buf, http.StatusText(code)...)
		w.buf = append(w.buf, '\n')
		w.written = int64(len(w.buf))
	}
	return true
}

// validHeaderName reports whether k is an RFC 9110 token, as net/http
// checks before writing a header.
func validHeaderName(k string) bool {
	return isToken(k)
}

// appendHeaderValue appends v with CR and LF turned into spaces, so a
// handler cannot split the response (net/http does the same).
func appendHeaderValue(b []byte, v string) []byte {
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return b
}

var (
	_ http.ResponseWriter = (*ResponseWriter)(nil)
	_ http.Flusher        = (*ResponseWriter)(nil)
	_ io.StringWriter     = (*ResponseWriter)(nil)
)
