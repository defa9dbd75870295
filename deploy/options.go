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
// a project named mysite in /srv/mysite listening on /run/mysite/mysite.sock. Every field is
// checked against an allow-list for its kind of value (validate.go); a refused value is a
// *FieldError naming the field.
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
	// Default one backend, the unix socket DefaultSocket(Name) (/run/NAME/NAME.sock), which
	// only the web server's group can open; 127.0.0.1:3033 for apache with protocol ajp,
	// which cannot reach a socket. Spawning targets (apache-fcgid, htaccess, fcgi) ignore
	// them; restart and systemd take exactly one.
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
	// Secret is the AJP shared secret that apache's mod_proxy_ajp sends (secret=). Default
	// "": none. Files holding it are written 0600. The restart and systemd targets refuse it:
	// the app reads its secret from APPGEN_AJP_SECRET in the project's 0600 env file
	// (EnvFile), never from a command line or a unit.
	Secret string
	// Settings is the settings profile the app loads (the APPGEN_SETTINGS variable).
	// Default "production".
	Settings string
	// User is the system user (and group) the systemd unit runs the app as, so that the app
	// and the web server cannot read each other's files. Default Name, lower-cased, with
	// '-' as '_'.
	User string
	// NoSocketUnit makes the systemd unit a plain service whose runfcgi creates its own
	// socket, without the socket unit (the systemd-socket target) that otherwise holds it.
	// Default false: systemd holds the socket, which then outlives restarts.
	NoSocketUnit bool
	// WebGroup is the web server's group: the app's unix socket is created in it with mode
	// 0660, so the web server, and no other local user, can connect. Default "www-data".
	WebGroup string
	// Spawn makes lighttpd (bin-path), Cherokee (an interpreter source) or h2o
	// (fastcgi.spawn) start the app
	// itself instead of connecting to one already running. Default false.
	Spawn bool
	// Image is the app's container image the kubernetes target runs, as `docker build -t`
	// named it from the docker target's Dockerfile: a repository with a tag, optionally
	// pinned by digest (@sha256:...). Default Name + ":latest".
	Image string
	// WebImage is the kubernetes nginx sidecar's image: the Dockerfile's web stage (nginx
	// with the static files). Default Image's repository with "-web", and Image's tag;
	// required when Image is pinned by digest.
	WebImage string
	// Version is the appgen version recorded in the header. Default "devel".
	Version string
	// Command is the command line recorded in the header (appgen config passes the one it
	// was given). Default "": the header records the inputs only.
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

// ParseBackend parses "host:port", "[v6]:port", "unix:/path" or "/path". A refused value is
// a *FieldError for the field Backends.
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

const wantBackend = "host:port, [ipv6]:port, unix:/path or /path"

// validate checks b; a refusal is a *FieldError for Backends with Part "socket", "host" or
// "port" (or "" when the form itself is wrong).
func (b Backend) validate() error {
	bad := func(part string, kind Kind, value, want string) error {
		e := fieldErr("Backends", kind, value, want)
		e.Part = part
		return e
	}
	switch b.Network {
	case "unix":
		if !ValidPath(b.Address) {
			return bad("socket", KindPath, b.Address, wants[KindPath])
		}
		if len(b.Address) > MaxSocketPath {
			return bad("socket", KindPath, b.Address, fmt.Sprintf("at most the %d bytes a unix socket path allows, not %d", MaxSocketPath, len(b.Address)))
		}
		return nil
	case "tcp":
		host, port, err := net.SplitHostPort(b.Address)
		if err != nil || strings.Contains(host, ":") != strings.HasPrefix(b.Address, "[") {
			return bad("", KindBackend, b.Address, wantBackend)
		}
		if !ValidHost(host) {
			return bad("host", KindHost, host, wants[KindHost])
		}
		if !ValidPort(port) {
			return bad("port", KindPort, port, wants[KindPort])
		}
		return nil
	}
	return bad("", KindBackend, b.Network+":"+b.Address, "network tcp or unix")
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
func (b Backend) RunfcgiAddress() []string {
	if b.IsUnix() {
		return []string{"socket=" + b.Address}
	}
	return []string{"host=" + b.Host(), "port=" + strconv.Itoa(b.Port())}
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
	r.Backends = slices.Clone(o.Backends)
	r.ServerNames = slices.Clone(o.ServerNames)
	if err := r.fill(); err != nil {
		return nil, err
	}
	return r, nil
}

// fill puts in every default and checks every field against its kind's allow-list, so that
// templates only ever see values they can quote.
func (r *resolved) fill() error {
	t := r.t
	if r.Name == "" {
		r.Name = "mysite"
	}
	if !ValidName(r.Name) {
		return fieldErr("Name", KindName, r.Name, wants[KindName])
	}
	if r.Dir == "" {
		r.Dir = "/srv/" + r.Name
	}
	for _, p := range []struct {
		field string
		v     *string
	}{{"Dir", &r.Dir}, {"Binary", &r.Binary}, {"Launcher", &r.Launcher}, {"DocumentRoot", &r.DocumentRoot}} {
		if *p.v != "" && !ValidPath(*p.v) {
			return fieldErr(p.field, KindPath, *p.v, wants[KindPath])
		}
		*p.v = cleanPath(*p.v)
	}
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
		return fieldErr("Protocol", KindProtocol, r.Protocol, "one of "+strings.Join(Protocols, ", "))
	}
	if !slices.Contains(t.protocols, r.Protocol) {
		return fieldErr("Protocol", KindProtocol, r.Protocol, t.name+" speaks only "+strings.Join(t.protocols, ", "))
	}
	if len(r.Backends) == 0 {
		r.Backends = []Backend{r.defaultBackend()}
	}
	for i, b := range r.Backends {
		if err := b.validate(); err != nil {
			err.(*FieldError).Index = i
			return err
		}
	}
	if t.noBalance != "" && len(r.Backends) > 1 {
		return fieldErr("Backends", KindCombined, fmt.Sprint(len(r.Backends)), t.noBalance)
	}
	if t.oneBackend && len(r.Backends) != 1 {
		return fieldErr("Backends", KindCombined, fmt.Sprint(len(r.Backends)), t.name+" runs one process, which listens on exactly one address")
	}
	if t.name == "apache" && r.Protocol == "ajp" {
		for i, b := range r.Backends {
			if b.IsUnix() {
				e := fieldErr("Backends", KindCombined, b.Address, "a host and port: mod_proxy_ajp cannot reach a unix socket")
				e.Index, e.Part = i, "socket"
				return e
			}
		}
	}
	for i, n := range r.ServerNames {
		if !ValidServerName(n) {
			e := fieldErr("ServerNames", KindServer, n, wants[KindServer])
			e.Index = i
			return e
		}
	}
	if r.Listen == "" {
		r.Listen = "80"
	}
	if _, _, ok := SplitListen(r.Listen); !ok {
		return fieldErr("Listen", KindListen, r.Listen, wants[KindListen])
	}
	if r.Prefix != "" && (!ValidURLPath(r.Prefix) || strings.HasSuffix(r.Prefix, "/")) {
		return fieldErr("Prefix", KindURLPath, r.Prefix, wants[KindURLPath]+", without a trailing slash, such as /app")
	}
	if r.StaticURL == "" {
		r.StaticURL = r.Prefix + "/static/"
	}
	if !ValidURLPath(r.StaticURL) || !strings.HasSuffix(r.StaticURL, "/") || r.StaticURL == "/" {
		return fieldErr("StaticURL", KindURLPath, r.StaticURL, wants[KindURLPath]+", ending with a slash, such as /static/")
	}
	r.StaticDir = strings.TrimSuffix(r.StaticURL, "/")
	switch {
	case r.StaticRoot == "":
		r.StaticRoot = r.Dir + "/static"
	case !path.IsAbs(r.StaticRoot):
		if !ValidPath("/" + r.StaticRoot) {
			return fieldErr("StaticRoot", KindPath, r.StaticRoot, wants[KindPath]+" (or one relative to the project directory)")
		}
		r.StaticRoot = path.Join(r.Dir, r.StaticRoot)
	}
	if !ValidPath(r.StaticRoot) {
		return fieldErr("StaticRoot", KindPath, r.StaticRoot, wants[KindPath])
	}
	r.StaticRoot = cleanPath(r.StaticRoot)
	if err := r.staticInDir(); err != nil {
		return err
	}
	if r.Secret != "" && !ValidSecret(r.Secret) {
		return fieldErr("Secret", KindSecret, r.Secret, wants[KindSecret])
	}
	if r.Secret != "" && r.Protocol != "ajp" {
		return fieldErr("Secret", KindSecret, r.Secret, "no secret: it is only used with protocol ajp")
	}
	if r.Secret != "" && t.oneBackend {
		return fieldErr("Secret", KindSecret, r.Secret, "no secret here: "+t.name+" reads APPGEN_AJP_SECRET from "+r.EnvFile()+" (mode 0600), where it stays out of command lines and units")
	}
	if err := r.validImageOptions(); err != nil {
		return err
	}
	if r.Settings == "" {
		r.Settings = "production"
	}
	if !ValidProfile(r.Settings) {
		return fieldErr("Settings", KindProfile, r.Settings, wants[KindProfile])
	}
	if r.User == "" {
		r.User = strings.ToLower(strings.ReplaceAll(r.Name, "-", "_"))
	}
	if !ValidUser(r.User) {
		return fieldErr("User", KindUser, r.User, wants[KindUser])
	}
	if r.WebGroup == "" {
		r.WebGroup = "www-data"
	}
	if !ValidUser(r.WebGroup) {
		return fieldErr("WebGroup", KindUser, r.WebGroup, wants[KindUser])
	}
	if r.Spawn && !t.spawn {
		return fieldErr("Spawn", KindCombined, "true", "a target that can start the app: lighttpd, cherokee or h2o, not "+t.name)
	}
	if r.Spawn && t.name == "lighttpd" && r.Protocol != "fcgi" {
		return fieldErr("Spawn", KindCombined, "true", "protocol fcgi: lighttpd starts the app through the launcher, which speaks fcgi, not "+r.Protocol)
	}
	if r.Version == "" {
		r.Version = "devel"
	}
	if !ValidVersion(r.Version) {
		return fieldErr("Version", KindVersion, r.Version, wants[KindVersion])
	}
	if !ValidText(r.Command) {
		return fieldErr("Command", KindText, r.Command, wants[KindText])
	}
	return nil
}

// cleanPath is path.Clean for a non-empty path.
func cleanPath(p string) string {
	if p == "" {
		return ""
	}
	return path.Clean(p)
}

// defaultBackend is where the app listens when Backends is empty: the unix socket
// DefaultSocket(Name) for targets that reach it through the file system, so that only the
// web server's group can speak to the app (on TCP any local user can, and can claim any
// REMOTE_ADDR or HTTPS); TCP 127.0.0.1:3033 for Apache's AJP, which cannot use a socket.
func (r *resolved) defaultBackend() Backend {
	if r.t.name == "apache" && r.Protocol == "ajp" {
		return TCP("127.0.0.1", 3033)
	}
	return Unix(DefaultSocket(r.Name))
}

// DefaultSocket is the unix socket a project named name listens on by default: under the
// directory systemd's RuntimeDirectory= creates for it.
func DefaultSocket(name string) string { return "/run/" + name + "/" + name + ".sock" }

// listenPort is the port part of Listen.
func (r *resolved) listenPort() string {
	if _, p, err := net.SplitHostPort(r.Listen); err == nil {
		return p
	}
	return r.Listen
}
