package deploy

import (
	"context"
	"net"
	"path/filepath"
)

// The haproxy target: a complete haproxy.cfg whose fcgi-app multiplexes FastCGI requests.
var haproxyTarget = &target{name: "haproxy", summary: "complete haproxy.cfg: fcgi-app with multiplexed connections, health-checked backends",
	protocols: []string{"fcgi"}, usesBackends: true, template: "haproxy.cfg.tmpl", program: "haproxy",
	syntax: syntaxHAProxy, fields: fieldList(baseFields, backendFields, webFields),
	check: func(ctx context.Context, _ *resolved, text []byte, dir string) ([]string, error) {
		return nil, checkCommand(ctx, "haproxy", "the haproxy package", filepath.Join(dir, "haproxy.cfg"), text, "-c", "-f")
	}}

// HAProxyBind is Listen as a bind address: ":PORT" for a bare port, every address.
func (r *resolved) HAProxyBind() string {
	if h := r.ListenHost(); h != "" {
		return net.JoinHostPort(h, r.listenPort())
	}
	return ":" + r.listenPort()
}

// HAProxyAddress is b as a server address: host:port, or unix@PATH.
func (b Backend) HAProxyAddress() string {
	if b.IsUnix() {
		return "unix@" + b.Address
	}
	return b.Address
}
