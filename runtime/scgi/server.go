package scgi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/appgen/appgen/runtime/internal/gateway"
	"github.com/appgen/appgen/runtime/internal/serve"
)

// Defaults of the Server's limits.
const (
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultMaxBodyBytes      = 64 << 20
	DefaultReadHeaderTimeout = serve.DefaultReadHeaderTimeout
	DefaultMinBodyRate       = serve.DefaultMinBodyRate // bytes per second
	DefaultReadTimeout       = 60 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultMaxConns          = 1024
)

// Server serves SCGI connections from a web server (nginx scgi_pass,
// Apache mod_proxy_scgi, lighttpd mod_scgi) with an http.Handler. Its
// shape is that of net/http.Server, so the process models run it the same
// way.
type Server struct {
	// Handler answers every request. Required.
	Handler http.Handler
	// ErrorLog receives one line per dropped connection and handler panics
	// with their stack. Default nil: log.Default().
	ErrorLog *log.Logger

	// MaxHeaderBytes limits the netstring header (all the variables);
	// a longer one closes the connection. Default 0: DefaultMaxHeaderBytes
	// (64 KiB).
	MaxHeaderBytes int
	// MaxBodyBytes limits CONTENT_LENGTH: a larger body gets 413 without
	// calling the handler. A body without CONTENT_LENGTH fails the read
	// past it with *http.MaxBytesError. Default 0: DefaultMaxBodyBytes
	// (64 MiB).
	MaxBodyBytes int64
	// ReadHeaderTimeout bounds reading the whole netstring header, from its
	// first byte: one deadline, which bytes sent slowly do not move; beyond
	// it the connection is closed. Default 0: DefaultReadHeaderTimeout (10s).
	ReadHeaderTimeout time.Duration
	// MinBodyRate is the slowest average rate, in bytes per second, at
	// which the body may arrive once its first 5 seconds
	// (serve.BodyRateGrace) have passed; a slower body fails the handler's
	// Read with a timeout and closes the connection. Default 0:
	// DefaultMinBodyRate (1024); negative: no minimum.
	MinBodyRate int
	// ReadTimeout bounds each wait for more of the body.
	// Default 0: DefaultReadTimeout (60s).
	ReadTimeout time.Duration
	// WriteTimeout bounds each write of the response.
	// Default 0: DefaultWriteTimeout (60s).
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for a new connection's first byte.
	// Default 0: DefaultIdleTimeout (60s).
	IdleTimeout time.Duration
	// MaxConns limits concurrent connections; at the limit, the connection
	// that has waited longest without sending a byte is closed to make
	// room for a new one (see serve.Server.MaxConns), or Serve waits for
	// one to end. Default 0: DefaultMaxConns (1024).
	MaxConns int
	// MaxRequests limits requests being handled at once; beyond it a
	// request gets 503. Default 0: MaxConns, as a connection carries one
	// request.
	MaxRequests int
	// Pool, when non-nil, runs each request's handler (the threaded model's
	// workpool.Pool); when Go reports false the request gets 503.
	// Default nil: the connection's goroutine runs it.
	Pool interface{ Go(task func()) bool }
	// ForceScriptName, when non-nil, is every request's script name,
	// whatever the web server sent (see gateway.Config). Default nil: the
	// script name comes from SCRIPT_URL, REDIRECT_URL or SCRIPT_NAME.
	ForceScriptName *string

	once sync.Once
	srv  serve.Server
	cfg  gateway.Config
}

// Serve accepts connections on l and serves them until Shutdown or Close,
// when it returns http.ErrServerClosed. It closes l when it returns.
func (s *Server) Serve(l net.Listener) error {
	if s.Handler == nil {
		l.Close()
		return errors.New("scgi: Server.Handler is nil, want a handler")
	}
	s.once.Do(s.init)
	return s.srv.Serve(l, s.serveConn)
}

// Shutdown stops accepting, closes connections whose request has not
// begun, and waits for the requests under way to finish, or for ctx to
// end, when it returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.once.Do(s.init)
	return s.srv.Shutdown(ctx)
}

// Close stops accepting and closes every connection now.
func (s *Server) Close() error {
	s.once.Do(s.init)
	return s.srv.Close()
}

func (s *Server) init() {
	s.srv.Protocol = "scgi"
	s.srv.ErrorLog = s.ErrorLog
	s.srv.MaxConns = s.maxConns()
	s.srv.MaxRequests = s.maxRequests()
	s.srv.Pool = s.Pool
	s.cfg.ForceScriptName = s.ForceScriptName
}

func (s *Server) maxHeaderBytes() int {
	if s.MaxHeaderBytes <= 0 {
		return DefaultMaxHeaderBytes
	}
	return s.MaxHeaderBytes
}

func (s *Server) maxBodyBytes() int64 {
	if s.MaxBodyBytes <= 0 {
		return DefaultMaxBodyBytes
	}
	return s.MaxBodyBytes
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (s *Server) minBodyRate() int { return serve.MinBodyRate(s.MinBodyRate) }

func (s *Server) maxConns() int {
	if s.MaxConns <= 0 {
		return DefaultMaxConns
	}
	return s.MaxConns
}

func (s *Server) maxRequests() int {
	if s.MaxRequests <= 0 {
		return s.maxConns()
	}
	return s.MaxRequests
}

var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

// output is a connection's response buffer and the writer under it,
// pooled together so that neither is allocated per request.
type output struct {
	bw *bufio.Writer
	dw deadlineWriter
}

var outputs = sync.Pool{New: func() any { return &output{bw: bufio.NewWriterSize(nil, 4096)} }}

// serveConn serves the connection's one request.
func (s *Server) serveConn(sc *serve.Conn) {
	_ = sc.SetReadDeadline(sc.QuietSince().Add(orDefault(s.IdleTimeout, DefaultIdleTimeout)))
	// The reader is taken once bytes arrive, so that a connection that
	// never sends any costs little more than its goroutine.
	if sc.WaitInput() != nil {
		// Closed (or timed out, or shut down) before a request began.
		return
	}
	br := readers.Get().(*bufio.Reader)
	br.Reset(sc)
	defer func() { br.Reset(nil); readers.Put(br) }()
	if _, err := br.Peek(1); err != nil {
		return
	}
	if !sc.SetActive() {
		return
	}
	readTimeout := orDefault(s.ReadTimeout, DefaultReadTimeout)
	_ = sc.SetReadDeadline(time.Now().Add(orDefault(s.ReadHeaderTimeout, DefaultReadHeaderTimeout)))
	params, contentLength, err := readHeader(br, s.maxHeaderBytes())
	if err != nil {
		if !sc.Closed() { // closed by Close: no news
			sc.Logf("%s", strings.TrimPrefix(err.Error(), "scgi: "))
		}
		return
	}

	out := outputs.Get().(*output)
	out.dw = deadlineWriter{sc, orDefault(s.WriteTimeout, DefaultWriteTimeout)}
	bw := out.bw
	bw.Reset(&out.dw)
	defer func() { bw.Reset(nil); out.dw = deadlineWriter{}; outputs.Put(out) }()

	var b *body
	var rb io.ReadCloser = http.NoBody
	if contentLength != 0 {
		// A negative length is a header without CONTENT_LENGTH: the body
		// is what the connection carries, up to MaxBodyBytes.
		b = &body{r: br, conn: sc, remaining: contentLength, limit: s.maxBodyBytes(), timeout: readTimeout,
			start: time.Now(), rate: s.minBodyRate()}
		rb = b
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := gateway.NewRequestContext(ctx, params, rb, &s.cfg)
	if err != nil {
		sc.Logf("%s", strings.TrimPrefix(err.Error(), "gateway: "))
		s.plain(bw, nil, b, http.StatusBadRequest)
		s.flush(sc, bw)
		return
	}
	if contentLength < 0 {
		r.ContentLength = -1
	}
	switch {
	case contentLength > s.maxBodyBytes():
		s.plain(bw, r, b, http.StatusRequestEntityTooLarge)
	case !s.srv.AcquireRequest():
		s.plain(bw, r, b, http.StatusServiceUnavailable)
	default:
		ok := s.srv.Run(func() { s.handle(sc, bw, r, b) })
		s.srv.ReleaseRequest()
		if !ok {
			s.plain(bw, r, b, http.StatusServiceUnavailable)
		}
	}
	cancel()
	s.flush(sc, bw)
	if b != nil && b.remaining < 0 && b.err != io.EOF {
		linger(sc, br)
	}
	if b != nil {
		// The reader goes back to the pool: a handler that kept r.Body
		// must not read another connection's bytes through it.
		b.err, b.r = errBodyClosed, nil
	}
}

// lingerTimeout bounds how long linger reads what a web server still sends.
const lingerTimeout = 500 * time.Millisecond

// linger ends a connection whose body of unknown length was not read to
// its end (the handler stopped, or MaxBodyBytes did): it closes the
// sending side, so the web server sees the response end, and drops what
// arrives for lingerTimeout. Closed at once, the unread bytes would make
// the kernel reset the connection, and the web server could lose the
// response it has not read yet (net/http's server lingers the same way).
func linger(sc *serve.Conn, br *bufio.Reader) {
	if cw, ok := sc.Conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = sc.SetReadDeadline(time.Now().Add(lingerTimeout))
	_, _ = io.Copy(io.Discard, br)
}

// errBodyClosed is returned by reads of a body after its handler returned.
var errBodyClosed = errors.New("scgi: read of a request body after its handler returned")

// handle runs the handler and writes its response as CGI output.
func (s *Server) handle(sc *serve.Conn, bw *bufio.Writer, r *http.Request, b *body) {
	w := gateway.NewResponseWriter(bw, r, sc.Logf)
	if sc.CallHandler(s.Handler, w, r) && !w.Fail(http.StatusInternalServerError) {
		// Part of the response is out: only the closed connection can
		// say it is cut short. Nothing more may be written.
		bw.Reset(io.Discard)
		return
	}
	b.drain()
	_ = w.Finish()
}

// plain writes a status-only response without calling the handler.
func (s *Server) plain(bw *bufio.Writer, r *http.Request, b *body, status int) {
	b.drain()
	w := gateway.NewResponseWriter(bw, r, nil)
	w.Fail(status)
	_ = w.Finish()
}

// flush sends what is left of the response.
func (s *Server) flush(sc *serve.Conn, bw *bufio.Writer) {
	if err := bw.Flush(); err != nil {
		sc.Logf("writing response: %v", err)
	}
}

// body is the request body: CONTENT_LENGTH bytes of the stream after the
// header, or, without CONTENT_LENGTH (remaining < 0), the rest of the
// stream up to limit bytes; each read under ReadTimeout and the whole at
// MinBodyRate.
type body struct {
	r         *bufio.Reader
	conn      net.Conn
	remaining int64 // -1: unknown length, read until the web server ends its side
	limit     int64 // MaxBodyBytes, for a body of unknown length
	read      int64 // bytes read so far: for rate, and for limit
	timeout   time.Duration
	start     time.Time // when the body began to be read, for rate
	rate      int       // MinBodyRate; 0: none
	err       error
}

func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.remaining < 0 {
		return b.readUnknown(p)
	}
	if b.remaining == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	_ = b.conn.SetReadDeadline(serve.Earliest(time.Now().Add(b.timeout), serve.BodyDeadline(b.start, b.read, b.rate)))
	n, err := b.r.Read(p)
	b.remaining -= int64(n)
	b.read += int64(n)
	if err == io.EOF {
		err = fmt.Errorf("scgi: request body ended %d bytes short of CONTENT_LENGTH: %w", b.remaining, io.ErrUnexpectedEOF)
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

// readUnknown reads a body without CONTENT_LENGTH: it ends where the web
// server ends its side of the connection, and one byte past MaxBodyBytes
// fails the read with *http.MaxBytesError, as http.MaxBytesReader does,
// since no 413 can be sent before the handler runs.
func (b *body) readUnknown(p []byte) (int, error) {
	if left := b.limit - b.read + 1; int64(len(p)) > left {
		p = p[:left]
	}
	_ = b.conn.SetReadDeadline(serve.Earliest(time.Now().Add(b.timeout), serve.BodyDeadline(b.start, b.read, b.rate)))
	n, err := b.r.Read(p)
	b.read += int64(n)
	if b.read > b.limit {
		n -= int(b.read - b.limit)
		err = &http.MaxBytesError{Limit: b.limit}
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

func (b *body) Close() error { return nil }

// drain reads and drops what the handler left of the body before the rest
// of the response goes out. nginx and Apache write the whole body before
// they read the response: a response sent, and a connection closed, over
// an unread body reach them as a broken pipe (502, 503), not as the
// response. Each read is still bounded by ReadTimeout, and the body by
// CONTENT_LENGTH, which the web server's own limit has already bounded.
//
// A body of unknown length is not drained: its end is the web server's
// half-close, which a server that reads the response before it has sent
// everything need not send, and waiting for it would hold the response.
func (b *body) drain() {
	if b != nil && b.remaining > 0 && b.err == nil {
		_, _ = io.Copy(io.Discard, b)
	}
}

// deadlineWriter sets the write deadline before each write.
type deadlineWriter struct {
	c       net.Conn
	timeout time.Duration
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	_ = w.c.SetWriteDeadline(time.Now().Add(w.timeout))
	return w.c.Write(p)
}
