package ajp

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/appgen/appgen/runtime/internal/serve"
)

// Defaults of the Server's limits.
const (
	DefaultMaxBodyBytes      = 64 << 20
	DefaultReadHeaderTimeout = serve.DefaultReadHeaderTimeout
	DefaultMinBodyRate       = serve.DefaultMinBodyRate // bytes per second
	DefaultReadTimeout       = 60 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 5 * time.Minute
	DefaultMaxConns          = 1024
)

// Server serves AJP13 connections from a web server (Apache's
// mod_proxy_ajp or mod_jk) with an http.Handler. Its shape is that of
// net/http.Server, so the process models run it the same way.
type Server struct {
	// Handler answers every request. Required.
	Handler http.Handler
	// ErrorLog receives one line per dropped connection and handler
	// panics with their stack. Default nil: log.Default().
	ErrorLog *log.Logger

	// Secret, when set, must arrive as the secret attribute of every
	// request (mod_proxy_ajp's secret=, Tomcat's secret); a request
	// without it or with another gets 403 and its connection is closed.
	// Default "": no secret is checked, and Serve then refuses listeners
	// on non-loopback addresses.
	Secret string
	// PacketSize is the largest AJP13 packet, framing included, from 8192
	// to 65536; it must match the web server's (mod_proxy_ajp's
	// ProxyIOBufferSize, mod_jk's max_packet_size). Default 0: 8192.
	PacketSize int

	// MaxHeaderBytes limits the FORWARD_REQUEST packet (request line,
	// headers, attributes); larger ones get 431. Default 0: the packet
	// size, which bounds it anyway.
	MaxHeaderBytes int
	// MaxBodyBytes limits a request body: a larger Content-Length gets 413
	// without calling the handler, and a chunked body that grows past it
	// fails the handler's Read with *http.MaxBytesError.
	// Default 0: DefaultMaxBodyBytes (64 MiB).
	MaxBodyBytes int64
	// ReadHeaderTimeout bounds the arrival of a request's FORWARD_REQUEST
	// packet, from the end of its 4-byte packet header: one deadline, which
	// bytes sent slowly do not move; beyond it the connection is closed.
	// Default 0: DefaultReadHeaderTimeout (10s).
	ReadHeaderTimeout time.Duration
	// MinBodyRate is the slowest average rate, in bytes per second, at
	// which a request body may arrive once its first 5 seconds
	// (serve.BodyRateGrace) have passed; a slower body fails the handler's
	// Read with a timeout and closes the connection. Default 0:
	// DefaultMinBodyRate (1024); negative: no minimum.
	MinBodyRate int
	// ReadTimeout bounds each wait for a body packet of a request under way.
	// Default 0: DefaultReadTimeout (60s).
	ReadTimeout time.Duration
	// WriteTimeout bounds each write of response packets.
	// Default 0: DefaultWriteTimeout (60s).
	WriteTimeout time.Duration
	// IdleTimeout bounds the time from a connection's last request (or
	// its accept) to its next; CPING packets do not extend it. The web
	// server reopens connections it finds closed.
	// Default 0: DefaultIdleTimeout (5 minutes).
	IdleTimeout time.Duration
	// MaxConns limits concurrent connections; at the limit, the connection
	// without a request in flight for longest is closed to make room for
	// a new one (see serve.Server.MaxConns), or Serve waits for one to end.
	// Default 0: DefaultMaxConns (1024).
	MaxConns int
	// MaxRequests limits requests being handled at once; beyond it a
	// request gets 503. Default 0: MaxConns, as each connection carries one
	// request at a time.
	MaxRequests int
	// Pool, when non-nil, runs each request's handler (the threaded model's
	// workpool.Pool); when Go reports false the request gets 503.
	// Default nil: the connection's goroutine runs it.
	Pool interface{ Go(task func()) bool }
	// ForceScriptName, when non-nil, is every request's script name
	// (gateway.ScriptName), cut from the front of req_uri when req_uri
	// starts with it. Default nil: the script name is "" (AJP13 has none).
	ForceScriptName *string

	once sync.Once
	srv  serve.Server
}

// Serve accepts connections on l and serves them until Shutdown or Close,
// when it returns http.ErrServerClosed. It refuses (with ErrNoSecret) a
// listener on a non-loopback address when Secret is empty, and an invalid
// PacketSize. It closes l when it returns.
func (s *Server) Serve(l net.Listener) error {
	if err := s.check(l); err != nil {
		l.Close()
		return err
	}
	s.once.Do(s.init)
	return s.srv.Serve(l, s.serveConn)
}

// Shutdown stops accepting, closes idle connections, and waits for the
// requests under way to finish (their connections then close), or for ctx
// to end, when it returns ctx's error.
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
	s.srv.Protocol = "ajp"
	s.srv.ErrorLog = s.ErrorLog
	s.srv.MaxConns = s.maxConns()
	s.srv.MaxRequests = s.maxRequests()
	s.srv.Pool = s.Pool
}

// serveConn runs one connection for serve.Server, logging the reason it
// was dropped, if any, as one line.
func (s *Server) serveConn(sc *serve.Conn) {
	// The buffers (four packets' worth) are made once bytes arrive, so
	// that a connection that never sends any costs little more than its
	// goroutine.
	c := &conn{srv: s, sc: sc, rwc: sc, packetSize: s.packetSize()}
	// A read that failed because Shutdown or Close closed the connection
	// is no news.
	if err := c.serve(); err != nil && err != errQuiet && !sc.Closed() {
		sc.Logf("%s", strings.TrimPrefix(err.Error(), "ajp: "))
	}
}

func (s *Server) packetSize() int {
	if s.PacketSize == 0 {
		return DefaultPacketSize
	}
	return s.PacketSize
}

func (s *Server) maxHeaderBytes(packetSize int) int {
	if s.MaxHeaderBytes <= 0 || s.MaxHeaderBytes > packetSize {
		return packetSize
	}
	return s.MaxHeaderBytes
}

func (s *Server) maxBodyBytes() int64 {
	if s.MaxBodyBytes <= 0 {
		return DefaultMaxBodyBytes
	}
	return s.MaxBodyBytes
}

func (s *Server) readTimeout() time.Duration { return orDefault(s.ReadTimeout, DefaultReadTimeout) }
func (s *Server) headerTimeout() time.Duration {
	return orDefault(s.ReadHeaderTimeout, DefaultReadHeaderTimeout)
}

func (s *Server) minBodyRate() int            { return serve.MinBodyRate(s.MinBodyRate) }
func (s *Server) writeTimeout() time.Duration { return orDefault(s.WriteTimeout, DefaultWriteTimeout) }
func (s *Server) idleTimeout() time.Duration  { return orDefault(s.IdleTimeout, DefaultIdleTimeout) }

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

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

func (s *Server) scriptName() string {
	if s.ForceScriptName == nil {
		return ""
	}
	return *s.ForceScriptName
}

// ErrNoSecret is returned by Serve for a listener that other hosts can
// reach when no Secret is set: that is the setup Ghostcat (CVE-2020-1938)
// exploited.
var ErrNoSecret = errors.New("ajp: refusing to serve a non-loopback address without a Secret")

// check validates the configuration before Serve accepts anything.
func (s *Server) check(l net.Listener) error {
	if s.Handler == nil {
		return errors.New("ajp: Server.Handler is nil, want a handler")
	}
	if ps := s.PacketSize; ps != 0 && (ps < DefaultPacketSize || ps > MaxPacketSize) {
		return fmt.Errorf("ajp: PacketSize %d, want 8192 to 65536", ps)
	}
	if s.Secret == "" && !loopback(l.Addr()) {
		return fmt.Errorf("%w (listening on %s)", ErrNoSecret, l.Addr())
	}
	return nil
}

// loopback reports whether only this host can connect to addr: a loopback
// IP or a unix socket. An unspecified address (0.0.0.0, ::) is not.
func loopback(addr net.Addr) bool {
	switch a := addr.(type) {
	case *net.UnixAddr:
		return true
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
