package deploy

import (
	"context"
	"github.com/appgen/appgen/runtime/serverconf"
	"strings"
)

// The lighttpd target: fastcgi.server or scgi.server, optionally spawning the app.
var lighttpdTarget = &target{name: "lighttpd", summary: "lighttpd fastcgi.server or scgi.server, with static files and rewrites",
	protocols: []string{"fcgi", "scgi"}, usesBackends: true, spawn: true, template: "lighttpd.conf.tmpl", program: "lighttpd",
	syntax: syntaxLighttpd, fields: fieldList(baseFields, backendFields, webFields, []string{"Launcher", "Spawn"}),
	check: func(_ context.Context, _ *resolved, text []byte, dir string) ([]string, error) {
		return nil, checkServer(serverconf.Config{Program: serverconf.Lighttpd, Dir: dir, Port: 8080, Site: string(text)})
	}}

// InternalURL is the URL lighttpd rewrites app requests to; its handler is keyed on it.
func (r *resolved) InternalURL() string { return "/" + r.Name + "." + r.Protocol }

// LighttpdKey is the lighttpd variable holding the backends.
func (r *resolved) LighttpdKey() string {
	return map[string]string{"fcgi": "fastcgi.server", "scgi": "scgi.server"}[r.Protocol]
}

// LighttpdModule is the lighttpd module that speaks the protocol.
func (r *resolved) LighttpdModule() string {
	return map[string]string{"fcgi": "mod_fastcgi", "scgi": "mod_scgi"}[r.Protocol]
}

// HostRegexp is lighttpd's $HTTP["host"] condition for the server names, quoted: each name
// matched literally, "*." as one or more labels (as nginx and Apache match it), with or
// without a port.
func (r *resolved) HostRegexp() (string, error) {
	alts := make([]string, len(r.ServerNames))
	for i, n := range r.ServerNames {
		wild := ""
		if rest, ok := strings.CutPrefix(n, "*"); ok {
			wild, n = ".+", rest
		}
		q, err := configString("a lighttpd string", n, true, nil)
		if err != nil {
			return "", err
		}
		alts[i] = wild + strings.Trim(q, `"`)
	}
	return `"^(` + strings.Join(alts, "|") + `)(:[0-9]+)?$"`, nil
}

// LighttpdBalance is the lighttpd variable choosing how requests spread over backends.
func (r *resolved) LighttpdBalance() string {
	return strings.TrimSuffix(r.LighttpdKey(), ".server") + ".balance"
}
