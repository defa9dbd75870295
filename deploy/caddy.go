package deploy

import (
	"context"
	"path/filepath"
	"strings"
)

// The caddy target: a Caddyfile site whose reverse_proxy speaks FastCGI to the app.
var caddyTarget = &target{name: "caddy", summary: "Caddyfile site: reverse_proxy with the fastcgi transport, file_server for static files",
	protocols: []string{"fcgi"}, usesBackends: true, template: "Caddyfile.tmpl", program: "caddy",
	syntax: syntaxCaddy, fields: fieldList(baseFields, backendFields, webFields),
	check: func(ctx context.Context, _ *resolved, text []byte, dir string) ([]string, error) {
		// Caddy keeps state under HOME and the XDG directories: give it the throwaway ones.
		env := []string{"HOME=" + dir, "XDG_DATA_HOME=" + filepath.Join(dir, "data"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "config")}
		return nil, checkCommandEnv(ctx, env, "caddy", "the caddy package", filepath.Join(dir, "Caddyfile"), text,
			"validate", "--adapter", "caddyfile", "--config")
	}}

// CaddyAddresses is the site's address list: each server name, or every host, on the
// listening port, with the http:// scheme so that Caddy serves plain HTTP and asks for no
// certificate. Each is a Caddyfile token.
func (r *resolved) CaddyAddresses() (string, error) {
	names := r.ServerNames
	if len(names) == 0 {
		names = []string{""}
	}
	out := make([]string, len(names))
	for i, n := range names {
		q, err := caddyToken("http://"+n+":"+r.listenPort(), nil)
		if err != nil {
			return "", err
		}
		out[i] = q
	}
	return strings.Join(out, " "), nil
}

// CaddyUpstream is b as a Caddy upstream address: unix//PATH or host:port.
func (b Backend) CaddyUpstream() string {
	if b.IsUnix() {
		return "unix/" + b.Address
	}
	return b.Address
}
