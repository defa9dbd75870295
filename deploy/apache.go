package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/appgen/appgen/runtime/serverconf"
)

// The Apache targets: a virtual host proxying to the app (apache), one where mod_fcgid
// starts it (apache-fcgid), and the .htaccess of shared hosting (htaccess).

var apacheTarget = &target{name: "apache", summary: "Apache 2.4 virtual host proxying with mod_proxy_fcgi, mod_proxy_scgi, mod_proxy_ajp or mod_proxy_http",
	protocols: []string{"fcgi", "scgi", "ajp", "http"}, usesBackends: true, template: "apache.conf.tmpl", program: "apache2",
	syntax: syntaxApache, check: checkApache,
	fields: fieldList(baseFields, backendFields, webFields, []string{"Secret"})}

var apacheFcgidTarget = &target{name: "apache-fcgid", summary: "Apache 2.4 virtual host where mod_fcgid starts the app through the launcher",
	protocols: []string{"fcgi"}, template: "apache-fcgid.conf.tmpl", program: "apache2",
	syntax: syntaxApache, check: checkApache,
	fields: fieldList(baseFields, webFields, []string{"Launcher"})}

var htaccessTarget = &target{name: "htaccess", summary: ".htaccess for shared hosting: mod_fcgid runs the launcher, the rest is rewritten to it",
	protocols: []string{"fcgi"}, template: "htaccess.tmpl", program: "apache2",
	syntax: syntaxApache, check: checkApache,
	fields: fieldList(baseFields, webFields)}

// Scheme is mod_proxy's URL scheme for the protocol.
func (r *resolved) Scheme() string {
	return map[string]string{"fcgi": "fcgi", "scgi": "scgi", "ajp": "ajp", "http": "http"}[r.Protocol]
}

// ListenAll is Listen as Apache's VirtualHost and Cherokee want it: "*:80" or "host:port".
func (r *resolved) ListenAll() string {
	if strings.Contains(r.Listen, ":") {
		return r.Listen
	}
	return "*:" + r.Listen
}

// WorkerURL is mod_proxy's URL of backend i: scheme://host:port, or for a unix socket
// "unix:/path|scheme://NAME-N", a name unique per socket so that each gets its own worker.
func (r *resolved) WorkerURL(i int) string {
	b := r.Backends[i]
	if b.IsUnix() {
		return fmt.Sprintf("unix:%s|%s://%s-%d", b.Address, r.Scheme(), r.Name, i+1)
	}
	return r.Scheme() + "://" + b.Address
}

// ProxyBase is where Apache sends requests: the balancer, the unix socket's worker, or the
// backend's URL, without a trailing slash.
func (r *resolved) ProxyBase() string {
	switch {
	case r.Balanced():
		return "balancer://" + r.Name
	case r.Backend().IsUnix():
		return fmt.Sprintf("%s://%s-1", r.Scheme(), r.Name)
	}
	return r.WorkerURL(0)
}

// OnceBalancer is the second balancer over the same backends that requests with a method
// that is not idempotent go through: it never sends a request to another member once one
// took it (maxattempts=0), where the first sends any request that got no answer on.
func (r *resolved) OnceBalancer() string { return "balancer://" + r.Name + "-once" }

// ProxyURL is ProxyBase with a trailing slash.
func (r *resolved) ProxyURL() string { return r.ProxyBase() + "/" }

// ApacheModules are the modules the apache targets need, as a2enmod names them.
func (r *resolved) ApacheModules() string {
	switch r.Target {
	case "apache-fcgid", "htaccess":
		return "fcgid rewrite alias"
	}
	mods := []string{"proxy", "proxy_" + r.Scheme()}
	if r.Balanced() {
		mods = append(mods, "proxy_balancer", "slotmem_shm", "lbmethod_byrequests")
	}
	if r.Protocol == "fcgi" || r.Protocol == "http" {
		mods = append(mods, "rewrite")
	}
	mods = append(mods, "setenvif", "alias")
	return strings.Join(mods, " ")
}

// ProxyPassURL is ProxyPass's target for the scgi and ajp targets, which name a unix socket
// in the URL itself ("unix:/path|scgi://NAME-1/").
func (r *resolved) ProxyPassURL() string {
	if !r.Balanced() && r.Backend().IsUnix() {
		return r.WorkerURL(0) + "/"
	}
	return r.ProxyURL()
}

// ProxyBasePrefix is ProxyBase followed by the prefix and a slash: mod_proxy_ajp and
// mod_proxy_http send the backend the public path.
func (r *resolved) ProxyBasePrefix() string { return r.ProxyBase() + r.Prefix + "/" }

// ScriptURL is the mount point the app is told through SCRIPT_URL: the prefix, or "/".
func (r *resolved) ScriptURL() string {
	if r.Prefix == "" {
		return "/"
	}
	return r.Prefix
}

// ApacheServerName is the name for Apache's ServerName: the first server name without a
// wildcard, which ServerName cannot hold, or "" when every name has one.
func (r *resolved) ApacheServerName() string {
	for _, n := range r.ServerNames {
		if !strings.HasPrefix(n, "*") {
			return n
		}
	}
	return ""
}

// ApacheAliases are the server names for ServerAlias: all but ApacheServerName.
func (r *resolved) ApacheAliases() []string {
	first := r.ApacheServerName()
	var out []string
	for _, n := range r.ServerNames {
		if n != first {
			out = append(out, n)
		}
	}
	return out
}

// checkApache checks an Apache target's output with apache2 -t, loading the modules it needs,
// and notes those installed but not enabled in /etc/apache2.
func checkApache(ctx context.Context, r *resolved, text []byte, dir string) (notes []string, err error) {
	mods := append([]string{"mpm_event", "authz_core", "mime"}, strings.Fields(r.ApacheModules())...)
	for _, m := range mods {
		if _, err := os.Stat(filepath.Join(serverconf.ApacheModuleDir, "mod_"+m+".so")); err != nil {
			pkg := "apache2"
			if m == "fcgid" {
				pkg = "libapache2-mod-fcgid"
			}
			return nil, fmt.Errorf("deploy: %w: Apache module %s is not installed (apt-get install %s)", ErrCheckUnavailable, m, pkg)
		}
		if m == "mpm_event" {
			continue
		}
		if _, err := os.Stat(filepath.Join(apacheEnabledDir, m+".load")); err != nil {
			notes = append(notes, fmt.Sprintf("Apache module %s is installed but not enabled: a2enmod %s", m, m))
		}
	}
	site := string(text)
	if r.Target == "htaccess" {
		// apache2 -t never reads .htaccess files; the same directives in a <Directory>
		// block are checked. (What AllowOverride permits is only seen by a request: the
		// end-to-end test serves the file under AllowOverride FileInfo Options.)
		site = "<Directory \"" + r.DocumentRoot + "\">\n" + site + "\n</Directory>\n"
	}
	return notes, checkServer(serverconf.Config{Program: serverconf.Apache, Dir: dir, Port: 8080, Modules: mods, Site: site})
}
