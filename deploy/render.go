package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"

	"github.com/appgen/appgen/templates"
)

// target is one kind of output: which server it is for and what it can do.
type target struct {
	name      string
	summary   string
	protocols []string
	// usesBackends: the output names the app's addresses (false for the spawned targets).
	usesBackends bool
	// oneBackend: the output starts one process, so it listens on exactly one address.
	oneBackend bool
	// spawn: the server can start the app itself (Options.Spawn).
	spawn bool
	// template is the file under templates.Deploy; its base name without .tmpl (with
	// "NAME" replaced by the project name) is the file ProjectFiles writes under deploy/.
	template string
	// program is the server program --check runs ("" when there is none to run).
	program string
}

var targets = []*target{
	{name: "apache", summary: "Apache 2.4 virtual host proxying with mod_proxy_fcgi, mod_proxy_scgi, mod_proxy_ajp or mod_proxy_http",
		protocols: []string{"fcgi", "scgi", "ajp", "http"}, usesBackends: true, template: "apache/apache.conf.tmpl", program: "apache2"},
	{name: "apache-fcgid", summary: "Apache 2.4 virtual host where mod_fcgid starts the app through the launcher",
		protocols: []string{"fcgi"}, template: "apache-fcgid/apache-fcgid.conf.tmpl", program: "apache2"},
	{name: "htaccess", summary: ".htaccess for shared hosting: mod_fcgid runs the launcher, the rest is rewritten to it",
		protocols: []string{"fcgi"}, template: "htaccess/htaccess.tmpl", program: "apache2"},
	{name: "fcgi", summary: "the launcher NAME.fcgi that mod_fcgid or lighttpd runs; touching it restarts the app",
		protocols: []string{"fcgi"}, template: "fcgi/NAME.fcgi.tmpl", program: "sh"},
	{name: "lighttpd", summary: "lighttpd fastcgi.server or scgi.server, with static files and rewrites",
		protocols: []string{"fcgi", "scgi"}, usesBackends: true, spawn: true, template: "lighttpd/lighttpd.conf.tmpl", program: "lighttpd"},
	{name: "cherokee", summary: "Cherokee cherokee.conf: a virtual server with a static rule and a balanced default rule",
		protocols: []string{"fcgi", "scgi"}, usesBackends: true, spawn: true, template: "cherokee/cherokee.conf.tmpl"},
	{name: "nginx", summary: "nginx server block with an upstream, static files and an explicit parameter list",
		protocols: []string{"fcgi", "scgi", "http"}, usesBackends: true, template: "nginx/nginx.conf.tmpl", program: "nginx"},
	{name: "restart", summary: "shell script that stops the daemon by its pid file and starts runfcgi again",
		protocols: []string{"fcgi", "scgi", "ajp"}, usesBackends: true, oneBackend: true, template: "restart/restart.sh.tmpl", program: "sh"},
	{name: "systemd", summary: "systemd unit running runfcgi in the foreground",
		protocols: []string{"fcgi", "scgi", "ajp"}, usesBackends: true, oneBackend: true, template: "systemd/NAME.service.tmpl", program: "systemd-analyze"},
}

var targetByName = func() map[string]*target {
	m := make(map[string]*target, len(targets))
	for _, t := range targets {
		m[t.name] = t
	}
	return m
}()

// Targets returns the target names, in the order help lists them.
func Targets() []string {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.name
	}
	return names
}

// Summary returns a one-line description of a target, or "" for an unknown one.
func Summary(name string) string {
	if t, ok := targetByName[name]; ok {
		return t.summary
	}
	return ""
}

// ProtocolsFor returns the protocols a target accepts, or nil for an unknown one.
func ProtocolsFor(name string) []string {
	if t, ok := targetByName[name]; ok {
		return slices.Clone(t.protocols)
	}
	return nil
}

// DefaultFile returns the file name ProjectFiles gives a target's output for a project
// called name ("nginx.conf", "mysite.fcgi"), or "" for an unknown target.
func DefaultFile(target, name string) string {
	t, ok := targetByName[target]
	if !ok {
		return ""
	}
	base := t.template[strings.LastIndexByte(t.template, '/')+1:]
	return strings.ReplaceAll(strings.TrimSuffix(base, ".tmpl"), "NAME", name)
}

// ErrTemplate wraps a failure of an embedded template; it is a bug in appgen, not in the input.
var ErrTemplate = errors.New("template failed")

// Render returns the configuration text Options describe.
func Render(o Options) ([]byte, error) {
	r, err := o.resolve()
	if err != nil {
		return nil, err
	}
	return renderWith(templates.Deploy, r)
}

func renderWith(fsys fs.FS, r *resolved) ([]byte, error) {
	tmpl, err := parse(fsys, r.t.template)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, r); err != nil {
		return nil, fmt.Errorf("deploy: %s: %w: %v", r.t.template, ErrTemplate, err)
	}
	return tidy(b.Bytes()), nil
}

// parse parses common.tmpl (the shared header) and one target's template.
func parse(fsys fs.FS, name string) (*template.Template, error) {
	common, err := fs.ReadFile(fsys, "common.tmpl")
	if err != nil {
		return nil, fmt.Errorf("deploy: %w: %v", ErrTemplate, err)
	}
	text, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("deploy: %w: %v", ErrTemplate, err)
	}
	t := template.New(name).Option("missingkey=error").Funcs(sprig.TxtFuncMap()).Funcs(funcs).Funcs(quoteFuncs)
	if _, err := t.New("common.tmpl").Parse(string(common)); err != nil {
		return nil, fmt.Errorf("deploy: common.tmpl: %w: %v", ErrTemplate, err)
	}
	if _, err := t.Parse(string(text)); err != nil {
		return nil, fmt.Errorf("deploy: %s: %w: %v", name, ErrTemplate, err)
	}
	return t, nil
}

// tidy removes trailing spaces and collapses runs of blank lines that conditional sections
// leave behind, so templates can stay readable without whitespace-trimming gymnastics.
func tidy(b []byte) []byte {
	lines := strings.Split(string(b), "\n")
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" && len(out) > 0 && out[len(out)-1] == "" {
			continue
		}
		out = append(out, l)
	}
	return []byte(strings.TrimSpace(strings.Join(out, "\n")) + "\n")
}

// What templates use beyond Options' fields.

// ProtocolName is the protocol as people write it.
func (r *resolved) ProtocolName() string {
	return map[string]string{"fcgi": "FastCGI", "scgi": "SCGI", "ajp": "AJP13", "http": "HTTP"}[r.Protocol]
}

// NameVar is Name as part of an nginx variable name, which no quoting can carry: it is
// refused unless it is letters, digits and '_' once '-' is '_'.
func (r *resolved) NameVar() (string, error) {
	v := strings.ReplaceAll(r.Name, "-", "_")
	if v == "" || !only(v, "_") {
		return "", refuse("an nginx variable name", r.Name, "want letters, digits, '-' and '_'")
	}
	return v, nil
}

// Balanced reports whether there are several backends.
func (r *resolved) Balanced() bool { return len(r.Backends) > 1 }

// Backend is the first (for one-process targets, the only) backend.
func (r *resolved) Backend() Backend { return r.Backends[0] }

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

// ListenHost is the host part of Listen, "" when Listen is a port.
func (r *resolved) ListenHost() string {
	if i := strings.LastIndexByte(r.Listen, ':'); i >= 0 {
		return strings.Trim(r.Listen[:i], "[]")
	}
	return ""
}

// ListenPort is the port part of Listen.
func (r *resolved) ListenPort() string { return r.listenPort() }

// RunfcgiArgs is the runfcgi command line serving the app on backend i, one argument per
// element, for a template to quote. A unix socket is created in WebGroup with mode 0660,
// so the web server, and no other local user, can connect. The AJP secret is never among
// them: runfcgi reads APPGEN_AJP_SECRET from its environment.
func (r *resolved) RunfcgiArgs(i int) []string {
	args := append([]string{r.Binary, "runfcgi", "protocol=" + r.Protocol}, r.Backends[i].RunfcgiAddress()...)
	if r.Backends[i].IsUnix() {
		args = append(args, "socket_group="+r.WebGroup, "socket_mode=0660")
	}
	return args
}

// RuntimeDirName is the unit's RuntimeDirectory=: the socket's directory relative to /run,
// or "" when the socket is elsewhere (the operator then makes its directory).
func (r *resolved) RuntimeDirName() string {
	if d, ok := strings.CutPrefix(path.Dir(r.Backend().Address), "/run/"); ok && r.Backend().IsUnix() {
		return d
	}
	return ""
}

// HasSecret reports whether the output holds a secret, so that it is written 0600.
func (r *resolved) HasSecret() bool {
	return r.Secret != "" && r.t.name == "apache" && r.Protocol == "ajp"
}

// CGIParams are the request variables nginx sends, in order, each value an nginx token.
func (r *resolved) CGIParams() ([][2]string, error) {
	var p [][2]string
	if r.Protocol == "scgi" {
		// nginx itself sends CONTENT_LENGTH first, as SCGI requires; a second one is an error.
		p = append(p, [2]string{"SCGI", "1"})
	}
	p = append(p,
		[2]string{"GATEWAY_INTERFACE", "CGI/1.1"},
		[2]string{"SERVER_SOFTWARE", "nginx/$nginx_version"},
		[2]string{"SERVER_PROTOCOL", "$server_protocol"},
		[2]string{"REQUEST_METHOD", "$request_method"},
		[2]string{"REQUEST_SCHEME", "$scheme"},
		[2]string{"REQUEST_URI", "$request_uri"},
		[2]string{"QUERY_STRING", "$query_string"},
		[2]string{"CONTENT_TYPE", "$content_type"},
	)
	if r.Protocol == "fcgi" {
		p = append(p, [2]string{"CONTENT_LENGTH", "$content_length"})
	}
	if r.Prefix != "" {
		prefix, err := configString("an nginx string", r.Prefix, false, nil)
		if err != nil {
			return nil, err
		}
		v, err := r.NameVar()
		if err != nil {
			return nil, err
		}
		p = append(p, [2]string{"SCRIPT_NAME", prefix}, [2]string{"PATH_INFO", "$" + v + "_path_info"})
	} else {
		p = append(p, [2]string{"SCRIPT_NAME", `""`}, [2]string{"PATH_INFO", "$uri"})
	}
	p = append(p,
		[2]string{"DOCUMENT_ROOT", "$document_root"},
		[2]string{"REMOTE_ADDR", "$remote_addr"},
		[2]string{"REMOTE_PORT", "$remote_port"},
		[2]string{"SERVER_ADDR", "$server_addr"},
		[2]string{"SERVER_PORT", "$server_port"},
		[2]string{"SERVER_NAME", "$host"},
		[2]string{"HTTPS", "$https if_not_empty"},
	)
	return p, nil
}

// InputLines describe every input, defaults included, for the header.
func (r *resolved) InputLines() []string {
	lines := []string{
		"target: " + r.Target + " (" + r.t.summary + ")",
		"project: " + r.Name + " in " + r.Dir + ", binary " + r.Binary + ", settings " + r.Settings,
		"protocol: " + r.Protocol,
	}
	if r.t.usesBackends {
		var bs []string
		for _, b := range r.Backends {
			bs = append(bs, b.String())
		}
		lines = append(lines, "backends: "+strings.Join(bs, ", "))
	} else {
		lines = append(lines, "launcher: "+r.Launcher)
	}
	if r.Target != "restart" && r.Target != "systemd" && r.Target != "fcgi" {
		names := "any host"
		if len(r.ServerNames) > 0 {
			names = strings.Join(r.ServerNames, ", ")
		}
		lines = append(lines,
			"server names: "+names+"; listen: "+r.Listen,
			"prefix: "+orRoot(r.Prefix)+"; static: "+r.StaticURL+" from "+r.StaticRoot+"; document root: "+r.DocumentRoot)
	}
	if r.Secret != "" {
		lines = append(lines, "secret: set (not shown)")
	}
	if r.Spawn {
		lines = append(lines, "spawn: the web server starts the app")
	}
	return lines
}

func orRoot(p string) string {
	if p == "" {
		return "/ (root)"
	}
	return p
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

// funcs are the template functions beyond sprig's.
var funcs = template.FuncMap{
	"orRoot": orRoot,
}

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

// VServer is the Cherokee virtual server number: 1 (the default one) when no server names
// are given, 10 otherwise, leaving vserver!1 to the default.
func (r *resolved) VServer() int {
	if len(r.ServerNames) > 0 {
		return 10
	}
	return 1
}

// EnvFile is the optional file of NAME=value lines that the launcher, the restart script
// and the systemd unit read last, for what must not be in a config: APPGEN_SECRET_KEY.
func (r *resolved) EnvFile() string { return filepath.Join(r.Dir, r.Name+".env") }

// AppEnv is the environment the app process needs to serve this site under its settings
// profile, in order: without APPGEN_ALLOWED_HOSTS the production profile allows no host
// and answers 400 to everything, as Django does with DEBUG off. The hosts are the server
// names, or "*" when none are given, since the web server then passes any host on.
// AJP and HTTP carry no script name, so a prefix mount must be forced for them.
func (r *resolved) AppEnv() [][2]string {
	hosts := "*"
	if len(r.ServerNames) > 0 {
		// The runtime follows Django: ".example.com" is the domain and its subdomains.
		names := make([]string, len(r.ServerNames))
		for i, n := range r.ServerNames {
			names[i] = strings.TrimPrefix(n, "*")
		}
		hosts = strings.Join(names, ",")
	}
	env := [][2]string{{"APPGEN_SETTINGS", r.Settings}, {"APPGEN_ALLOWED_HOSTS", hosts}}
	if r.Prefix != "" && (r.Protocol == "ajp" || r.Protocol == "http") {
		env = append(env, [2]string{"APPGEN_FORCE_SCRIPT_NAME", r.Prefix})
	}
	return env
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

// LighttpdBalance is the lighttpd variable choosing how requests spread over backends.
func (r *resolved) LighttpdBalance() string {
	return strings.TrimSuffix(r.LighttpdKey(), ".server") + ".balance"
}

// AnyUnix reports whether some backend is a unix socket.
func (r *resolved) AnyUnix() bool {
	for _, b := range r.Backends {
		if b.IsUnix() {
			return true
		}
	}
	return false
}

// HoldsSecret reports whether o's output holds a secret (apache's AJP secret=), so that
// whoever writes it to a file makes that file readable by its owner only (0600).
func HoldsSecret(o Options) bool {
	r, err := o.resolve()
	return err == nil && r.HasSecret()
}
