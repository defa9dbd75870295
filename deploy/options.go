package deploy

import (
	"errors"
	"fmt"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Options are the inputs of one configuration. The zero value of every field except Target
// means its documented default, so Options{Target: "nginx"} renders a working nginx site for
// a project named mysite in /srv/mysite listening on 127.0.0.1:3033.
type Options struct {
	// Target is what to write: one of Targets(). Required.
	Target string
	// Name is the project's name: the binary, the launcher (Name.fcgi) and the upstream are
	// named after it. Default "mysite".
	Name string
	// Dir is the project's absolute directory on the server. Default "/srv/" + Name.
	Dir string
	// Binary is the project binary's absolute path. Default Dir/Name.
	Binary string
	// Launcher is the absolute path of the FastCGI launcher (the fcgi target) that
	// mod_fcgid or lighttpd's bin-path starts. Default Dir/Name.fcgi.
	Launcher string
	// Protocol is how the web server talks to the app: "fcgi", "scgi", "ajp" or "http".
	// Default "fcgi". Each target accepts only the protocols its server can speak.
	Protocol string
	// Backends are the addresses the app listens on; several make a load-balanced group.
	// Default one backend, 127.0.0.1:3033. Spawning targets (apache-fcgid, htaccess, fcgi)
	// ignore them; restart and systemd take exactly one.
	Backends []Backend
	// ServerNames are the site's host names. Default none: the site answers any host
	// (nginx "_", Apache the virtual host's default, lighttpd and Cherokee no condition).
	ServerNames []string
	// Listen is the port, or host:port, the site listens on. Default "80".
	Listen string
	// Prefix is the URL path the app is mounted under, without a trailing slash ("/app").
	// Default "": the app is at the root.
	Prefix string
	// StaticURL is the URL path of static files, with a trailing slash. Default Prefix +
	// "/static/".
	StaticURL string
	// StaticRoot is the directory served at StaticURL; a relative path is relative to Dir.
	// Default Dir/static.
	StaticRoot string
	// DocumentRoot is the web server's document root: files that exist there are served as
	// they are (robots.txt, favicon.ico), and the htaccess target's .htaccess goes there.
	// Default Dir/public_html.
	DocumentRoot string
	// Secret is the AJP shared secret (mod_proxy_ajp's secret=, runfcgi's secret=). Default
	// "": none.
	Secret string
	// Settings is the settings profile the app loads (the APPGEN_SETTINGS variable).
	// Default "production".
	Settings string
	// Spawn makes lighttpd (bin-path) or Cherokee (an interpreter source) start the app
	// itself instead of connecting to one already running. Default false.
	Spawn bool
	// Version is the appgen version recorded in the header. Default "devel".
	Version string
	// Command is the command line recorded in the header. Default: one built from Options.
	Command string
}

// Backend is one address an app process listens on.
type Backend struct {
	// Network is "tcp" or "unix".
	Network string
	// Address is host:port for "tcp" and an absolute socket path for "unix".
	Address string
}

// MaxSocketPath is the longest unix socket path Linux accepts: sun_path holds 108 bytes,
// one of them the terminating NUL.
const MaxSocketPath = 107

// TCP returns a TCP backend on host and port.
func TCP(host string, port int) Backend {
	return Backend{Network: "tcp", Address: net.JoinHostPort(host, strconv.Itoa(port))}
}

// Unix returns a unix socket backend.
func Unix(path string) Backend { return Backend{Network: "unix", Address: path} }

// ParseBackend parses "host:port", "[v6]:port", "unix:/path" or "/path".
func ParseBackend(s string) (Backend, error) {
	if p, ok := strings.CutPrefix(s, "unix:"); ok {
		return Unix(p), Unix(p).validate()
	}
	if strings.HasPrefix(s, "/") {
		return Unix(s), Unix(s).validate()
	}
	b := Backend{Network: "tcp", Address: s}
	return b, b.validate()
}

func (b Backend) validate() error {
	switch b.Network {
	case "unix":
		if !path.IsAbs(b.Address) {
			return fmt.Errorf("deploy: socket path %q must be absolute", b.Address)
		}
		if len(b.Address) > MaxSocketPath {
			return fmt.Errorf("deploy: socket path %q is %d bytes, longer than the %d a unix socket allows", b.Address, len(b.Address), MaxSocketPath)
		}
		if strings.ContainsAny(b.Address, " \t\n\"'|;{}#") {
			return fmt.Errorf("deploy: socket path %q has a space, quote or one of |;{}#, which server configs cannot carry safely", b.Address)
		}
		return nil
	case "tcp":
		host, port, err := net.SplitHostPort(b.Address)
		if err != nil {
			return fmt.Errorf("deploy: backend %q: want host:port, [ipv6]:port, unix:/path or /path", b.Address)
		}
		if host == "" || strings.ContainsAny(host, " \t\n\"'|;{}#/") {
			return fmt.Errorf("deploy: backend %q: host %q is not a host name or IP address", b.Address, host)
		}
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("deploy: backend %q: port %q out of range 1-65535", b.Address, port)
		}
		return nil
	}
	return fmt.Errorf("deploy: backend network %q, want tcp or unix", b.Network)
}

// Host returns a TCP backend's host (without brackets).
func (b Backend) Host() string {
	h, _, _ := net.SplitHostPort(b.Address)
	return h
}

// Port returns a TCP backend's port.
func (b Backend) Port() int {
	_, p, _ := net.SplitHostPort(b.Address)
	n, _ := strconv.Atoi(p)
	return n
}

// IsUnix reports whether b is a unix socket.
func (b Backend) IsUnix() bool { return b.Network == "unix" }

// String is the form ParseBackend reads.
func (b Backend) String() string {
	if b.IsUnix() {
		return "unix:" + b.Address
	}
	return b.Address
}

// RunfcgiAddress is the runfcgi arguments that listen on b.
func (b Backend) RunfcgiAddress() string {
	if b.IsUnix() {
		return "socket=" + b.Address
	}
	return "host=" + b.Host() + " port=" + strconv.Itoa(b.Port())
}

// Protocols lists every protocol name, in the order errors list them.
var Protocols = []string{"fcgi", "scgi", "ajp", "http"}

// ErrUnknownTarget is returned (wrapped) for a target name that is not in Targets().
var ErrUnknownTarget = errors.New("unknown server")

// resolved is Options with every default filled in and checked.
type resolved struct {
	Options
	StaticDir string // StaticURL without its trailing slash ("/static")
	t         *target
}

func (o Options) resolve() (*resolved, error) {
	t, ok := targetByName[o.Target]
	if !ok {
		return nil, fmt.Errorf("deploy: %w %q, want one of %s", ErrUnknownTarget, o.Target, strings.Join(Targets(), ", "))
	}
	r := &resolved{Options: o, t: t}
	if r.Name == "" {
		r.Name = "mysite"
	}
	if !validName(r.Name) {
		return nil, fmt.Errorf("deploy: project name %q: want letters, digits, '_' and '-', starting with a letter", r.Name)
	}
	if r.Dir == "" {
		r.Dir = "/srv/" + r.Name
	}
	for _, p := range []struct{ flag, v string }{{"project directory", r.Dir}, {"binary", r.Binary}, {"launcher", r.Launcher}, {"document root", r.DocumentRoot}} {
		if p.v != "" && !path.IsAbs(p.v) {
			return nil, fmt.Errorf("deploy: %s %q must be an absolute path", p.flag, p.v)
		}
		if strings.ContainsAny(p.v, " \t\n\"'|;{}#$`\\") {
			return nil, fmt.Errorf("deploy: %s %q has a space, quote or shell character, which server configs cannot carry safely", p.flag, p.v)
		}
	}
	r.Dir = path.Clean(r.Dir)
	if r.Binary == "" {
		r.Binary = r.Dir + "/" + r.Name
	}
	if r.Launcher == "" {
		r.Launcher = r.Dir + "/" + r.Name + ".fcgi"
	}
	if r.DocumentRoot == "" {
		r.DocumentRoot = r.Dir + "/public_html"
	}
	if r.Protocol == "" {
		r.Protocol = "fcgi"
	}
	if !slices.Contains(Protocols, r.Protocol) {
		return nil, fmt.Errorf("deploy: protocol %q, want one of %s", r.Protocol, strings.Join(Protocols, ", "))
	}
	if !slices.Contains(t.protocols, r.Protocol) {
		return nil, fmt.Errorf("deploy: %s cannot speak protocol %q, want one of %s", t.name, r.Protocol, strings.Join(t.protocols, ", "))
	}
	if len(r.Backends) == 0 {
		r.Backends = []Backend{TCP("127.0.0.1", 3033)}
	}
	for _, b := range r.Backends {
		if err := b.validate(); err != nil {
			return nil, err
		}
	}
	if t.oneBackend && len(r.Backends) != 1 {
		return nil, fmt.Errorf("deploy: %s runs one process, which listens on one address; got %d backends", t.name, len(r.Backends))
	}
	if t.name == "apache" && r.Protocol == "ajp" {
		for _, b := range r.Backends {
			if b.IsUnix() {
				return nil, fmt.Errorf("deploy: apache: mod_proxy_ajp cannot reach unix socket %s; use --host and --port", b.Address)
			}
		}
	}
	for _, n := range r.ServerNames {
		if n == "" || strings.ContainsAny(n, " \t\n\"'|;{}#/$\\") {
			return nil, fmt.Errorf("deploy: server name %q: want a host name such as example.com", n)
		}
	}
	if r.Listen == "" {
		r.Listen = "80"
	}
	if err := checkListen(r.Listen); err != nil {
		return nil, err
	}
	if r.Prefix != "" {
		if !strings.HasPrefix(r.Prefix, "/") || strings.HasSuffix(r.Prefix, "/") || strings.Contains(r.Prefix, "//") || strings.ContainsAny(r.Prefix, " \t\n\"'|;{}#$\\?%*+()[]^") {
			return nil, fmt.Errorf("deploy: prefix %q: want a URL path such as /app, with no trailing slash, spaces or regular expression characters", r.Prefix)
		}
	}
	if r.StaticURL == "" {
		r.StaticURL = r.Prefix + "/static/"
	}
	if !strings.HasPrefix(r.StaticURL, "/") || !strings.HasSuffix(r.StaticURL, "/") || r.StaticURL == "/" || strings.ContainsAny(r.StaticURL, " \t\n\"'|;{}#$\\?%*+()[]^") {
		return nil, fmt.Errorf("deploy: static URL %q: want a path that starts and ends with a slash, such as /static/", r.StaticURL)
	}
	r.StaticDir = strings.TrimSuffix(r.StaticURL, "/")
	switch {
	case r.StaticRoot == "":
		r.StaticRoot = r.Dir + "/static"
	case !path.IsAbs(r.StaticRoot):
		r.StaticRoot = path.Join(r.Dir, r.StaticRoot)
	}
	if strings.ContainsAny(r.StaticRoot, " \t\n\"'|;{}#$`\\") {
		return nil, fmt.Errorf("deploy: static root %q has a space, quote or shell character, which server configs cannot carry safely", r.StaticRoot)
	}
	r.StaticRoot = path.Clean(r.StaticRoot)
	if strings.ContainsAny(r.Secret, " \t\n\"'|;{}#$`\\,") {
		return nil, fmt.Errorf("deploy: secret must not contain spaces, quotes, commas or shell characters")
	}
	if r.Settings == "" {
		r.Settings = "production"
	}
	if !validName(r.Settings) {
		return nil, fmt.Errorf("deploy: settings profile %q: want letters, digits, '_' and '-'", r.Settings)
	}
	if r.Spawn && !t.spawn {
		return nil, fmt.Errorf("deploy: %s cannot spawn the app; only lighttpd and cherokee can", t.name)
	}
	if r.Spawn && t.name == "lighttpd" && r.Protocol != "fcgi" {
		return nil, fmt.Errorf("deploy: %s: --spawn starts the app through the launcher, which speaks fcgi; got protocol %q", t.name, r.Protocol)
	}
	if r.Version == "" {
		r.Version = "devel"
	}
	if r.Command == "" {
		r.Command = r.commandLine()
	}
	return r, nil
}

func checkListen(l string) error {
	port := l
	if strings.Contains(l, ":") {
		h, p, err := net.SplitHostPort(l)
		if err != nil || h == "" {
			return fmt.Errorf("deploy: listen address %q: want a port or host:port", l)
		}
		port = p
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("deploy: listen port %q out of range 1-65535", port)
	}
	return nil
}

func validName(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// commandLine reconstructs an `appgen config` command for the header, naming only the
// inputs that differ from the defaults.
func (r *resolved) commandLine() string {
	args := []string{"appgen", "config", r.Target}
	add := func(flag, v string) { args = append(args, flag, v) }
	if r.Protocol != "fcgi" {
		add("--protocol", r.Protocol)
	}
	if r.t.usesBackends {
		for _, b := range r.Backends {
			add("--backend", b.String())
		}
	}
	for _, n := range r.ServerNames {
		add("--server-name", n)
	}
	if r.Prefix != "" {
		add("--prefix", r.Prefix)
	}
	return strings.Join(args, " ")
}

// listenPort is the port part of Listen.
func (r *resolved) listenPort() string {
	if _, p, err := net.SplitHostPort(r.Listen); err == nil {
		return p
	}
	return r.Listen
}
