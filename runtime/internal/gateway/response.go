package gateway

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/appgen/appgen/runtime/internal/respond"
)

// bufSize is how much body a ResponseWriter holds before it sends the
// header: enough for most pages to go out whole, with a Content-Length, in
// one write.
const bufSize = 4096

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
//   - Headers the web server would obey instead of passing on (Status;
//     Location on a 200; Transfer-Encoding) are not sent: see gatewayHeader.
//
// The zero value is not usable: make one with NewResponseWriter, or reuse
// one with Reset. It is not safe for concurrent use, as net/http's is not.
type ResponseWriter struct {
	dst  io.Writer
	logf func(format string, args ...any)

	header http.Header
	hbuf   []byte // status line and headers, fixed at WriteHeader
	buf    []byte // body not yet sent

	st  respond.State // net/http's rules; sent is st.Sent
	err error         // first error from dst, returned from then on
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
	if len(h) > 0 {
		clear(h)
	}
	*w = ResponseWriter{
		dst:    dst,
		logf:   logf,
		header: h,
		hbuf:   w.hbuf[:0],
		buf:    w.buf[:0],
	}
	// A CGI response can carry 101 (the web server then hands the
	// connection over), so it is a final status here.
	w.st.Reset(r != nil && r.Method == http.MethodHead, true)
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
	h := w.header
	if !w.st.WriteHeader(code, h, w.logf) {
		return
	}

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
		if !respond.IsToken(k) || strings.HasPrefix(k, http.TrailerPrefix) || gatewayHeader(k, code) {
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
}

// Write adds p to the body, sending the header first when the buffer fills.
func (w *ResponseWriter) Write(p []byte) (int, error) {
	if !w.st.WroteHeader() {
		w.WriteHeader(http.StatusOK)
	}
	if n, done, err := w.st.Admit(&w.buf, p, w.err); done {
		return n, err
	}
	if len(w.buf)+len(p) <= bufSize {
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	total := len(p)
	// Sniff from the start of the body, not only what was buffered.
	k := min(len(p), w.st.SniffWant(len(w.buf)))
	w.buf = append(w.buf, p[:k]...)
	p = p[k:]
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
	// The first write of a response fixes its header here, as Write would,
	// so that it too takes the path that does not copy s.
	if !w.st.WroteHeader() {
		w.WriteHeader(http.StatusOK)
	}
	if len(w.buf)+len(s) <= bufSize && w.err == nil && w.st.Take(len(s)) {
		w.buf = append(w.buf, s...)
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
	if !w.st.Sent {
		w.st.Sent = true
		b := w.hbuf
		if ct := w.st.SniffedType(w.buf); ct != "" {
			b = append(b, "Content-Type: "...)
			b = append(b, ct...)
			b = append(b, "\r\n"...)
		}
		if w.st.AddLength(final) {
			b = append(b, "Content-Length: "...)
			b = strconv.AppendInt(b, w.st.Written, 10)
			b = append(b, "\r\n"...)
		}
		b = append(b, "\r\n"...)
		if !w.st.Head {
			b = append(b, w.buf...)
		}
		w.hbuf = b
		out = b
	} else if w.st.Head {
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
	if !w.st.WroteHeader() {
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
	if !w.st.WroteHeader() {
		w.WriteHeader(http.StatusOK)
	}
	return w.send(true)
}

// Sent reports whether any of the response has been written to dst.
func (w *ResponseWriter) Sent() bool { return w.st.Sent }

// Status returns the status the handler chose, 0 before WriteHeader or Write.
func (w *ResponseWriter) Status() int { return w.st.Status }

// Fail replaces a response that has not been sent with a plain-text one
// with status code, as servers do after a handler panics. It reports false,
// changing nothing, when part of the response has already gone.
func (w *ResponseWriter) Fail(code int) bool {
	if w.st.Sent {
		return false
	}
	w.st.Fail(w.Header())
	w.buf = w.buf[:0]
	w.WriteHeader(code)
	w.buf = w.st.FailBody(w.buf)
	return true
}

// gatewayHeader reports whether the header named k is one the web server
// would read as an instruction to itself rather than pass to the client,
// so that a response through a CGI gateway says what the handler's
// response says through net/http's server:
//
//   - Status is the CGI status line: Apache's mod_proxy_fcgi, mod_proxy_scgi
//     and mod_fcgid take the last one sent, so a handler's Status header
//     would replace the code it gave WriteHeader.
//   - Location on a 200 means nothing to an HTTP client, but to a CGI
//     gateway it is a redirect: mod_proxy_scgi (ProxySCGIInternalRedirect,
//     on by default) and mod_fcgid serve a local one ("/path") in place of
//     the response, and mod_fcgid turns any other into a 302.
//   - Transfer-Encoding is the web server's framing of its own response.
//
// Names are matched in any case, as the web servers match them. Headers
// that ask the web server for something by name (nginx's X-Accel-Redirect,
// X-Sendfile where the operator turned it on) pass: they mean the same
// behind a proxy_pass to net/http.
func gatewayHeader(k string, code int) bool {
	switch len(k) {
	case len("Status"):
		return strings.EqualFold(k, "Status")
	case len("Location"):
		return code == http.StatusOK && strings.EqualFold(k, "Location")
	case len("Transfer-Encoding"):
		return strings.EqualFold(k, "Transfer-Encoding")
	}
	return false
}

// appendHeaderValue appends v with CR and LF turned into spaces, so a
// handler cannot split the response (net/http does the same).
func appendHeaderValue(b []byte, v string) []byte {
	v = strings.TrimSpace(v)
	if strings.IndexByte(v, '\r') < 0 && strings.IndexByte(v, '\n') < 0 {
		return append(b, v...)
	}
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
