package deploy

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/appgen/appgen/runtime/serverconf"
)

// The h2o target: a complete h2o.conf whose paths speak FastCGI to the app
// (fastcgi.connect), or start it (fastcgi.spawn).
var h2oTarget = &target{name: "h2o", summary: "complete h2o.conf: fastcgi.connect (or fastcgi.spawn) with file.dir for static files",
	protocols: []string{"fcgi"}, usesBackends: true, noBalance: h2oOneBackend, spawn: true, template: "h2o.conf.tmpl", program: "h2o",
	syntax: syntaxH2O, fields: fieldList(baseFields, backendFields, webFields, []string{"Launcher", "Spawn"}),
	check: checkH2O}

// checkH2O runs `h2o -t -c` on the output as it is (serverconf.CheckFile), after refusing a
// fastcgi.spawn that Options did not ask for: h2o -t starts no process, but the file it
// passes would run a command when h2o starts.
func checkH2O(_ context.Context, r *resolved, text []byte, dir string) ([]string, error) {
	keys, err := h2oKeys(string(text))
	if err != nil {
		return nil, fmt.Errorf("deploy: %w: %v", ErrCheckFailed, err)
	}
	for _, k := range keys {
		if !r.Spawn && strings.HasSuffix(k, ">fastcgi.spawn/Q") || strings.Contains(k, ">fastcgi.spawn/") && !strings.HasSuffix(k, "/Q") {
			return nil, fmt.Errorf("deploy: %w: h2o output holds fastcgi.spawn, which appgen writes only with --spawn; refusing to hand it to a validator", ErrCheckFailed)
		}
	}
	return nil, checkFile(serverconf.H2O, filepath.Join(dir, "h2o.conf"), text)
}

// h2oOneBackend is why h2o takes one backend: the error for several names the way out.
const h2oOneBackend = "one backend: h2o 2.2's fastcgi.connect reaches one address and cannot balance FastCGI; " +
	"balance several app processes with `appgen config haproxy` (or nginx, Apache, lighttpd, Caddy) and let h2o serve the site and its static files in front of it"

// H2OHosts are the keys of h2o.conf's site hosts: each server name, or "default" for any
// host. h2o hands a request for a host that no key names to the first one, which with
// server names is the template's 'unmatched.invalid', answering 404.
func (r *resolved) H2OHosts() []string {
	if len(r.ServerNames) == 0 {
		return []string{"default"}
	}
	return r.ServerNames
}

// H2OListenPort is Listen's port as an h2o.conf number.
func (r *resolved) H2OListenPort() (int, error) {
	return strconv.Atoi(r.listenPort())
}

// H2OSpawnCommand is the shell command fastcgi.spawn runs (h2o runs it with /bin/sh -c,
// the listening socket on standard input): exec the launcher.
func (r *resolved) H2OSpawnCommand() (string, error) {
	q, err := shellQuote(r.Launcher)
	if err != nil {
		return "", err
	}
	return "exec " + q, nil
}
