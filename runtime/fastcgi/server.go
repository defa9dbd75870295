package fastcgi

import (
	"context"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/appgen/appgen/runtime/internal/gateway"
	"github.com/appgen/appgen/runtime/internal/serve"
)

// Defaults of the Server limits.
const (
	DefaultMaxHeaderBytes    = 64 << 10 // as SCGI's; AJP's is its packet size
	DefaultMaxBodyBytes      = 64 << 20
	DefaultBodyMemoryBytes   = 128 << 10
	DefaultMaxSpillBytes     = serve.DefaultMaxSpillBytes // 1 GiB
	DefaultReadHeaderTimeout = serve.DefaultReadHeaderTimeout
	DefaultMinBodyRate       = serve.DefaultMinBodyRate // bytes per second
	DefaultReadTimeout       = 60 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 5 * time.Minute
	DefaultMaxConns          = 1024
	DefaultMaxRequests       = 1024
	DefaultMaxConnRequests   = 64
)

// Server is a FastCGI responder. Its zero value, given a Handler, serves
// with the defaults above. Set its fields before calling Serve and do not
// change them after.
type Server struct {
	// Handler answers every request. Required.
	Handler http.Handler
	// ErrorLog receives one line per connection problem and handler panic,
	// prefixed "fastcgi: PEER: ". Default nil: log.Default().
	ErrorLog *log.Logger

	// MaxHeaderBytes limits the FCGI_PARAMS of one request; a request
	// beyond it gets 431 without calling the handler. Default 0:
	// DefaultMaxHeaderBytes (64 KiB, as for SCGI).
	MaxHeaderBytes int
	// MaxBodyBytes limits a body: a larger CONTENT_LENGTH gets 413 without
	// calling the handler, and a body without one (streamed to its end
	// record) that grows past it fails the handler's Read with
	// *http.MaxBytesError. Default 0: DefaultMaxBodyBytes (64 MiB, as for
	// SCGI and AJP).
	MaxBodyBytes int64
	// BodyMemoryBytes is the largest body kept in memory; a larger one is
	// buffered in an unlinked temporary file in TempDir, so that bodies
	// never stall the connection and memory stays bounded by
	// MaxRequests × BodyMemoryBytes. Default 0: DefaultBodyMemoryBytes
	// (128 KiB).
	BodyMemoryBytes int64
	// MaxSpillBytes bounds the bodies buffered in TempDir at once, across
	// all connections: a request whose CONTENT_LENGTH does not fit gets 503
	// without calling the handler, and a body without CONTENT_LENGTH that
	// no longer fits fails the handler's Read. Default 0:
	// DefaultMaxSpillBytes (1 GiB).
	MaxSpillBytes int64
	// TempDir is where large bodies are buffered. Default "": os.TempDir().
	TempDir string

	// ReadHeaderTimeout bounds the arrival of a request's whole FCGI_PARAMS
	// stream, from the first time the server waits for it; it is one
	// deadline, not one per record, so params sent a byte at a time cannot
	// hold a request open. Beyond it the connection is closed. Default 0:
	// DefaultReadHeaderTimeout (10s).
	ReadHeaderTimeout time.Duration
	// MinBodyRate is the slowest average rate, in bytes per second, at
	// which a request's STDIN may arrive once the first 5 seconds
	// (serve.BodyRateGrace) have passed; a slower body closes the
	// connection. Default 0: DefaultMinBodyRate (1024); negative: no
	// minimum.
	MinBodyRate int
	// ReadTimeout is the longest wait for the next record while a request's
	// params or body are still arriving. Default 0: DefaultReadTimeout (60s).
	ReadTimeout time.Duration
	// WriteTimeout is the longest one write to the web server may take.
	// Default 0: DefaultWriteTimeout (60s).
	WriteTimeout time.Duration
	// IdleTimeout is how long a connection with no request in flight stays
	// open. Default 0: DefaultIdleTimeout (5 minutes).
	IdleTimeout time.Duration

	// MaxConns limits concurrent connections (reported as FCGI_MAX_CONNS).
	// Default 0: DefaultMaxConns (1024).
	MaxConns int
	// MaxRequests limits concurrent requests over all connections; beyond
	// it a request is answered 503 (see Pool). FCGI_GET_VALUES reports as
	// FCGI_MAX_REQS the fewest of MaxRequests, MaxConnRequests and the
	// Pool's Limit: the requests one connection can have running at once,
	// which HAProxy takes as the most it multiplexes on a connection.
	// Default 0: DefaultMaxRequests (1024).
	MaxRequests int
	// MaxConnRequests limits the requests in flight on one connection (a
	// multiplexing web server's); beyond it a request is answered 503, so
	// that one connection cannot take every one of MaxRequests. Default 0:
	// DefaultMaxConnRequests (64).
	MaxConnRequests int
	// Pool, if non-nil, runs each request's handler; when Go reports false
	// the request is answered 503. A request refused for load gets a whole
	// 503 response ended as complete, not the specification's
	// FCGI_OVERLOADED, which HAProxy leaves unanswered until its server
	// timeout and nginx turns into a 502. A Pool with a Limit method
	// (workpool.Pool: MaxWorkers) caps FCGI_MAX_REQS. Default nil: one
	// goroutine per request.
	Pool interface{ Go(task func()) bool }

	// ForceScriptName, when non-nil, is every request's script name (see
	// gateway.Config). Default nil: computed from the request's variables.
	ForceScriptName *string

	once   sync.Once
	srv    serve.Server
	cfg    gateway.Config
	limits limits
	watch  watchdog
}

// limits are the Server's fields with defaults applied.
type limits struct {
	maxHeader                         int
	maxBody, bodyMemory, maxSpill     int64
	readTimeout, writeTimeout, idleTO time.Duration
	headerTimeout                     time.Duration
	minBodyRate                       int // 0: none
	maxConns, maxRequests, maxConnReq int
	advertisedReqs                    int // FCGI_MAX_REQS
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func (s *Server) init() {
	s.once.Do(func() {
		s.limits = limits{
			maxHeader:    orDefault(s.MaxHeaderBytes, DefaultMaxHeaderBytes),
			maxBody:      orDefault(s.MaxBodyBytes, DefaultMaxBodyBytes),
			bodyMemory:   orDefault(s.BodyMemoryBytes, DefaultBodyMemoryBytes),
			readTimeout:  orDefault(s.ReadTimeout, DefaultReadTimeout),
			writeTimeout: orDefault(s.WriteTimeout, DefaultWriteTimeout),
			idleTO:       orDefault(s.IdleTimeout, DefaultIdleTimeout),
			maxConns:     orDefault(s.MaxConns, DefaultMaxConns),
			maxRequests:  orDefault(s.MaxRequests, DefaultMaxRequests),
			maxConnReq:   orDefault(s.MaxConnRequests, DefaultMaxConnRequests),
			maxSpill:     orDefault(s.MaxSpillBytes, DefaultMaxSpillBytes),

			headerTimeout: orDefault(s.ReadHeaderTimeout, DefaultReadHeaderTimeout),
			minBodyRate:   serve.MinBodyRate(s.MinBodyRate),
		}
		s.limits.advertisedReqs = min(s.limits.maxRequests, s.limits.maxConnReq)
		if p, ok := s.Pool.(interface{ Limit() int }); ok && p.Limit() > 0 {
			s.limits.advertisedReqs = min(s.limits.advertisedReqs, p.Limit())
		}
		s.cfg.ForceScriptName = s.ForceScriptName
		s.srv.Protocol = "fastcgi"
		s.srv.ErrorLog = s.ErrorLog
		s.srv.MaxConns = s.limits.maxConns
		s.srv.MaxRequests = s.limits.maxRequests
		s.srv.MaxSpillBytes = s.limits.maxSpill
		s.srv.Pool = s.Pool
	})
}

// Serve accepts FastCGI connections on l until Shutdown or Close, when it
// returns http.ErrServerClosed. It closes l.
func (s *Server) Serve(l net.Listener) error {
	s.init()
	return s.srv.Serve(l, s.serveConn)
}

// Shutdown stops accepting, closes idle connections and waits for
// in-flight requests to end, or for ctx to be done (returning its error).
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	return s.srv.Shutdown(ctx)
}

// Close stops accepting and closes every connection at once.
func (s *Server) Close() error {
	s.init()
	return s.srv.Close()
}

// Serve serves FastCGI on l with handler and the default limits, until l
// fails. It is the counterpart of net/http/fcgi.Serve.
func Serve(l net.Listener, handler http.Handler) error {
	return (&Server{Handler: handler}).Serve(l)
}
