package middleware

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// recorder notes what a handler wrote, for the logger, the panic recovery and the
// request-finished hook. Those three share one recorder per request (see record), so the
// response is wrapped once however many of them the chain has.
type recorder struct {
	http.ResponseWriter
	written int64 // body bytes accepted by the underlying writer
	// status is the final status; 0 until the header is written. An int32 beside logged keeps
	// the recorder, allocated once per request, in the 32-byte size class.
	status int32
	// logged is set by the first Logger to log the request (the innermost), so that Loggers
	// further out, such as runfcgi's debug=true around a site that logs its own requests, do
	// not log it again.
	logged bool
}

// record returns w itself when a middleware of this package has already wrapped it.
func record(w http.ResponseWriter) *recorder {
	if rec, ok := w.(*recorder); ok {
		return rec
	}
	return &recorder{ResponseWriter: w}
}

func (rec *recorder) WriteHeader(code int) {
	// 1xx responses other than 101 are interim: the final header is still to come.
	if rec.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		rec.status = int32(code)
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(p)
	rec.written += int64(n)
	return n, err
}

// WriteString keeps the underlying writer's own WriteString (which may avoid a copy) in use.
func (rec *recorder) WriteString(s string) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := io.WriteString(rec.ResponseWriter, s)
	rec.written += int64(n)
	return n, err
}

// headerWritten reports whether the status line may already have gone to the client, after
// which an error response can no longer replace it.
func (rec *recorder) headerWritten() bool { return rec.status != 0 }

// Flush and Hijack are methods of their own, not only reachable through Unwrap, because much
// code still asks for http.Flusher and http.Hijacker with a type assertion.
func (rec *recorder) Flush() {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	// A writer that cannot flush leaves the bytes buffered, as http.Flusher callers expect.
	_ = http.NewResponseController(rec.ResponseWriter).Flush()
}

func (rec *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(rec.ResponseWriter).Hijack()
	if err == nil && rec.status == 0 {
		rec.status = http.StatusSwitchingProtocols
	}
	return conn, rw, err
}

// Unwrap lets http.ResponseController reach the writer's other optional methods
// (SetReadDeadline, SetWriteDeadline, EnableFullDuplex).
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

var (
	_ http.Flusher    = (*recorder)(nil)
	_ http.Hijacker   = (*recorder)(nil)
	_ io.StringWriter = (*recorder)(nil)
)
