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
	DefaultMaxHeaderBytes  = 1 << 20
	DefaultMaxBodyBytes    = 64 << 20
	DefaultBodyMemoryBytes = 128 << 10
	DefaultReadTimeout     = 60 * time.Second
	DefaultWriteTimeout    = 60 * time.Second
	DefaultIdleTimeout     = 5 * time.Minute
	DefaultMaxConns        = 1024
	DefaultMaxRequests     = 1024
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
	// DefaultMaxHeaderBytes (1 MiB).
	MaxHeaderBytes int
	// MaxBodyBytes limits CONTENT_LENGTH; a larger body gets 413 without
	// calling the handler. Default 0: DefaultMaxBodyBytes (64 MiB, as for SCGI and AJP).
	MaxBodyBytes int64
	// BodyMemoryBytes is the largest body kept in memory; a larger one is
	// buffered in an unlinked temporary file in TempDir, so that bodies
	// never stall the connection and memory stays bounded by
	// MaxRequests × BodyMemoryBytes. Default 0: DefaultBodyMemoryBytes
	// (128 KiB).
	BodyMemoryBytes int64
	// TempDir is where large bodies are buffered. Default "": os.TempDir().
	TempDir string

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
	// MaxRequests limits concurrent requests over all connections
	// (reported as FCGI_MAX_REQS); beyond it a request is answered with
	// FCGI_OVERLOADED. Default 0: DefaultMaxRequests (1024).
	MaxRequests int
	// Pool, if non-nil, runs each request's handler; when Go reports false
	// the request is answered with FCGI_OVERLOADED. Default nil: one
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
	maxBody, bodyMemory               int64
	readTimeout, writeTimeout, idleTO time.Duration
	maxConns, maxRequests             int
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
		}
		s.cfg.ForceScriptName = s.ForceScriptName
		s.srv.Protocol = "fastcgi"
		s.srv.ErrorLog = s.ErrorLog
		s.srv.MaxConns = s.limits.maxConns
		s.srv.MaxRequests = s.limits.maxRequests
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
