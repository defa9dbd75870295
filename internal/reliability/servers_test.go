package reliability

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/ajp"
	"github.com/appgen/appgen/runtime/fastcgi"
	"github.com/appgen/appgen/runtime/scgi"
	"github.com/appgen/appgen/runtime/testsupport/logbuf"
)

// limits are the server settings a scenario changes from the defaults.
type limits struct {
	MaxHeaderBytes    int
	MaxBodyBytes      int64
	IdleTimeout       time.Duration
	ReadHeaderTimeout time.Duration
	MinBodyRate       int
	MaxConns          int
	Secret            string // AJP only
}

// server is what every protocol's Server offers (docs/design.md, the protocol server contract).
type server interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
	Close() error
}

// protocol is one protocol as the scenarios drive it: a server constructor and a raw client.
type protocol struct {
	name string
	// newServer builds the protocol's Server with the handler, limits and log.
	newServer func(h http.Handler, lim limits, logger *log.Logger) server
	// request is a complete, well-formed request (keep-alive where the protocol has it).
	request func(method, uri string, body []byte, secret string) []byte
	// read reads one response.
	read func(r *bufio.Reader) (Response, error)
	// reuses says a connection carries more than one request.
	reuses bool
}

var protocols = []protocol{
	{
		name: "fastcgi",
		newServer: func(h http.Handler, lim limits, logger *log.Logger) server {
			return &fastcgi.Server{Handler: h, ErrorLog: logger, MaxHeaderBytes: lim.MaxHeaderBytes,
				MaxBodyBytes: lim.MaxBodyBytes, IdleTimeout: lim.IdleTimeout, MaxConns: lim.MaxConns,
				ReadHeaderTimeout: lim.ReadHeaderTimeout, MinBodyRate: lim.MinBodyRate}
		},
		request: func(method, uri string, body []byte, _ string) []byte {
			return FCGIRequest(1, true, body, GetParams(method, uri)...)
		},
		read:   func(r *bufio.Reader) (Response, error) { return ReadFCGIResponse(r, 1) },
		reuses: true,
	},
	{
		name: "scgi",
		newServer: func(h http.Handler, lim limits, logger *log.Logger) server {
			return &scgi.Server{Handler: h, ErrorLog: logger, MaxHeaderBytes: lim.MaxHeaderBytes,
				MaxBodyBytes: lim.MaxBodyBytes, IdleTimeout: lim.IdleTimeout, MaxConns: lim.MaxConns,
				ReadHeaderTimeout: lim.ReadHeaderTimeout, MinBodyRate: lim.MinBodyRate}
		},
		request: func(method, uri string, body []byte, _ string) []byte {
			return SCGIRequest(body, GetParams(method, uri)...)
		},
		read: ReadSCGIResponse,
	},
	{
		name: "ajp",
		newServer: func(h http.Handler, lim limits, logger *log.Logger) server {
			return &ajp.Server{Handler: h, ErrorLog: logger, MaxHeaderBytes: lim.MaxHeaderBytes,
				MaxBodyBytes: lim.MaxBodyBytes, IdleTimeout: lim.IdleTimeout, MaxConns: lim.MaxConns, Secret: lim.Secret,
				ReadHeaderTimeout: lim.ReadHeaderTimeout, MinBodyRate: lim.MinBodyRate}
		},
		request: func(method, uri string, body []byte, secret string) []byte {
			return AJPRequest(method, uri, body, secret)
		},
		read:   ReadAJPResponse,
		reuses: true,
	},
}

func protocolNamed(t *testing.T, name string) protocol {
	t.Helper()
	for _, p := range protocols {
		if p.name == name {
			return p
		}
	}
	t.Fatalf("no protocol %q", name)
	return protocol{}
}

// running is a protocol server serving on loopback for one test.
type running struct {
	p    protocol
	addr string
	log  *logbuf.Buffer
	srv  server
}

// start serves h with p on a fresh loopback listener until the test ends; the server must
// return http.ErrServerClosed from Serve after Shutdown, or the test fails.
func start(t *testing.T, p protocol, h http.Handler, lim limits) *running {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lb := &logbuf.Buffer{}
	srv := p.newServer(h, lim, log.New(lb, "", 0))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("%s: Shutdown: %v", p.name, err)
			srv.Close()
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("%s: Serve returned %v, want http.ErrServerClosed", p.name, err)
		}
		if t.Failed() {
			t.Logf("%s server log:\n%s", p.name, lb.String())
		}
	})
	return &running{p: p, addr: l.Addr().String(), log: lb, srv: srv}
}

// hangGuard bounds every raw exchange, so a server that never answers fails the test instead of
// hanging it; it is not a speed requirement.
const hangGuard = 10 * time.Second

// dial opens a raw connection to the server.
func (s *running) dial(t *testing.T) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.addr, hangGuard)
	if err != nil {
		t.Fatalf("%s: dial: %v", s.p.name, err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(hangGuard))
	return c, bufio.NewReader(c)
}

// do sends one well-formed request on c and reads its response.
func (s *running) do(t *testing.T, c net.Conn, r *bufio.Reader, method, uri string, body []byte, secret string) Response {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(hangGuard))
	if _, err := c.Write(s.p.request(method, uri, body, secret)); err != nil {
		t.Fatalf("%s: writing %s %s: %v", s.p.name, method, uri, err)
	}
	resp, err := s.p.read(r)
	if err != nil {
		t.Fatalf("%s: reading the response to %s %s: %v", s.p.name, method, uri, err)
	}
	return resp
}

// get makes one request on a new connection and returns its response.
func (s *running) get(t *testing.T, uri, secret string) Response {
	t.Helper()
	c, r := s.dial(t)
	defer c.Close()
	return s.do(t, c, r, "GET", uri, nil, secret)
}

// readToEOF reads until the server closes the connection and returns what it sent; ok is false
// when the connection was still open at the hang guard.
func readToEOF(c net.Conn) (data []byte, ok bool) {
	_ = c.SetReadDeadline(time.Now().Add(hangGuard))
	var buf bytes.Buffer
	_, err := buf.ReadFrom(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return buf.Bytes(), false
	}
	// EOF (nil from ReadFrom) and a reset both mean the server closed it.
	return buf.Bytes(), true
}
