package runfcgi

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/appgen/appgen/runtime/ajp"
	"github.com/appgen/appgen/runtime/fastcgi"
	"github.com/appgen/appgen/runtime/scgi"
)

// server is the protocol server contract of docs/design.md.
type server interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
	Close() error
}

// pooler runs a request's handler (the threaded model's workpool.Pool).
type pooler interface{ Go(task func()) bool }

// newServer makes the protocol server o.Protocol names, behind the
// FCGI_WEB_SERVER_ADDRS filter when that variable is set.
func (r *run) newServer(h http.Handler, pool pooler) (server, error) {
	allowed, err := parseWebServerAddrs(os.Getenv("FCGI_WEB_SERVER_ADDRS"))
	if err != nil {
		return nil, err
	}
	srv, err := r.protocolServer(h, pool)
	if err != nil {
		return nil, err
	}
	if len(allowed) == 0 {
		return srv, nil
	}
	return &filtered{server: srv, allowed: allowed, r: r}, nil
}

// protocolServer makes the server for o.Protocol with the limits of
// o.Limits, whose zero values are each server's defaults. Parse refused the
// FastCGI-only keys for the other protocols.
func (r *run) protocolServer(h http.Handler, pool pooler) (server, error) {
	fs, l := r.site.ForceScriptName, r.o.Limits
	switch r.o.Protocol {
	case "fcgi":
		return &fastcgi.Server{Handler: h, ErrorLog: r.log, Pool: pool, ForceScriptName: fs,
			MaxConns: l.MaxConns, MaxRequests: l.MaxInFlight, MaxConnRequests: l.MaxMPX,
			MaxHeaderBytes: l.MaxHeader, MaxBodyBytes: l.MaxBody, BodyMemoryBytes: l.BodyBuffer,
			MaxSpillBytes: l.MaxSpill, TempDir: l.TempDir, ReadHeaderTimeout: l.HeaderTimeout,
			MinBodyRate: l.MinBodyRate, ReadTimeout: l.ReadTimeout, WriteTimeout: l.WriteTimeout,
			IdleTimeout: l.IdleTimeout}, nil
	case "scgi":
		return &scgi.Server{Handler: h, ErrorLog: r.log, Pool: pool, ForceScriptName: fs,
			MaxConns: l.MaxConns, MaxRequests: l.MaxInFlight, MaxHeaderBytes: l.MaxHeader,
			MaxBodyBytes: l.MaxBody, ReadHeaderTimeout: l.HeaderTimeout, MinBodyRate: l.MinBodyRate,
			ReadTimeout: l.ReadTimeout, WriteTimeout: l.WriteTimeout, IdleTimeout: l.IdleTimeout}, nil
	case "ajp":
		return &ajp.Server{Handler: h, ErrorLog: r.log, Pool: pool, ForceScriptName: fs, Secret: r.o.Secret,
			MaxConns: l.MaxConns, MaxRequests: l.MaxInFlight, MaxHeaderBytes: l.MaxHeader,
			MaxBodyBytes: l.MaxBody, ReadHeaderTimeout: l.HeaderTimeout, MinBodyRate: l.MinBodyRate,
			ReadTimeout: l.ReadTimeout, WriteTimeout: l.WriteTimeout, IdleTimeout: l.IdleTimeout}, nil
	}
	return nil, fmt.Errorf("runfcgi: protocol=%s: want fcgi, scgi or ajp", r.o.Protocol)
}

// filtered applies the address filter in Serve, so that it also holds in a
// prefork worker, which is handed its listener by the prefork package.
type filtered struct {
	server
	allowed []net.IP
	r       *run
}

func (f *filtered) Serve(l net.Listener) error {
	return f.server.Serve(&allowListener{Listener: l, allowed: f.allowed, log: f.r.log})
}
