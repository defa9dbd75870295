package runfcgi

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
)

// Defaults are a project's deployment constants (settings/deploy.go): the
// protocol and address runfcgi uses when the command line names none.
type Defaults struct {
	// Protocol is "fcgi", "scgi" or "ajp". Any other value (a project may say
	// "http", which is runserver's business) leaves runfcgi on "fcgi", Django's
	// default.
	Protocol string
	// Host and Port are the TCP address used when no host, port or socket is
	// given and the web server did not spawn the process. Ignored when Socket
	// is set.
	Host string
	Port int
	// Socket is a unix socket path; when set, Host and Port are not used.
	// Default "": listen on Host and Port.
	Socket string
}

// Options are the parsed runfcgi key=value arguments, with Django's defaults
// and the project's Defaults filled in.
type Options struct {
	// Protocol is "fcgi", "scgi" or "ajp". Default: Defaults.Protocol when it
	// is one of those, else "fcgi".
	Protocol string
	// Host and Port are the TCP address to listen on; Socket the unix socket
	// path. When DefaultAddress is true they were copied from Defaults.
	Host   string
	Port   int
	Socket string
	// DefaultAddress is true when none of host, port and socket was given.
	// Main then serves on fd 0 when the web server spawned the process, falls
	// back to CGI when GATEWAY_INTERFACE is set, and otherwise listens on the
	// address above.
	DefaultAddress bool
	// Method is "threaded" (default) or "prefork" (Django's default, "fork").
	// Threaded is the default because it is the fast path: through nginx a
	// prefork worker pool costs more CPU per request and more memory for
	// the same throughput at best (docs/process-models.md); prefork buys
	// crash isolation and worker recycling.
	Method string
	// MaxRequests is how many requests a prefork worker serves before it is
	// replaced; a threaded process the web server spawned restarts in place
	// after as many. Default 0: no limit.
	MaxRequests int
	// MaxSpare and MinSpare bound the idle workers (processes for prefork,
	// pooled goroutines for threaded). Defaults for threaded 5 and 2; for
	// prefork one worker per core (GOMAXPROCS) each.
	MaxSpare, MinSpare int
	// MaxChildren is the most workers at once. Default for threaded 50; for
	// prefork two per core.
	MaxChildren int
	// Daemonize detaches the process from its terminal. Default: true when a
	// host and port or a socket was given, false otherwise.
	Daemonize bool
	// PIDFile receives the serving process's pid. Default "": none.
	PIDFile string
	// WorkDir is the directory to change to once listening. Default "": "/"
	// when daemonizing, else the current directory is kept.
	WorkDir string
	// Umask is applied before the unix socket and the log files are created.
	// Default -1: the inherited umask, or 022 when daemonizing (as Django).
	Umask int
	// OutLog and ErrLog receive a daemon's stdout and stderr (appended).
	// Default "": /dev/null when daemonizing; not used in the foreground.
	OutLog, ErrLog string
	// Debug logs every request and the server's lifecycle. Default false.
	Debug bool
	// Secret is the AJP shared secret: from secret_file=, else the
	// APPGEN_AJP_SECRET environment variable (SecretEnv), else secret=
	// (which every local user can read in ps, so Main warns). Default "":
	// none, which is refused for an AJP listener on a non-loopback address.
	Secret string
	// SecretFile is the file whose first line is the AJP secret; it must not
	// be readable by every user. Default "": no file.
	SecretFile string
	// SocketMode is the permission bits of the unix socket: who may connect
	// (connecting needs write permission). Default 0660: the socket's owner
	// and group, which is the web server's in a deployment (socket_group).
	SocketMode int
	// SocketGroup is the group (a name or a number) of the unix socket,
	// typically the web server's (www-data). Default "": the process's group.
	SocketGroup string
	// Watch is a file whose modification makes the process finish its
	// requests in flight and then restart in place when the web server
	// spawned it (touch mysite.fcgi), or exit otherwise. Default "": not
	// watched.
	Watch string
	// Help is true when "help" was given: print Usage and do nothing else.
	Help bool
	// Ops are the operations keys (timeout=, slowlog=, jitter=, maxrss=).
	Ops
	// Limits are the protocol servers' limits (maxconns=, maxbody=, …).
	Limits
}

// ErrUsage is wrapped by every error Parse returns: the command line is wrong
// (exit status 2), as opposed to a failure while running.
var ErrUsage = errors.New("usage")

type usageError struct{ msg string }

func (e *usageError) Error() string { return "runfcgi: " + e.msg }
func (e *usageError) Unwrap() error { return ErrUsage }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// keyNames lists every key in the order Usage documents them; errors quote it.
var keyNames = []string{
	"protocol", "host", "port", "socket", "method", "maxrequests", "maxspare",
	"minspare", "maxchildren", "daemonize", "pidfile", "workdir", "umask",
	"outlog", "errlog", "debug", "secret", "secret_file", "socket_mode",
	"socket_group", "watch", "timeout", "slowlog", "jitter", "maxrss",
	"status", "ping", "admin", "backlog", "maxconns", "maxinflight", "maxmpx",
	"maxheader", "maxbody", "bodybuffer", "maxspill", "tempdir", "headertimeout",
	"minbodyrate", "readtimeout", "writetimeout", "idletimeout", "help",
}

// optionalWhenEmpty are the keys Django tests for truth, so that an empty
// value ("socket=") means the same as leaving the key out.
var optionalWhenEmpty = map[string]bool{
	"host": true, "port": true, "socket": true, "pidfile": true, "outlog": true,
	"errlog": true, "umask": true, "secret": true, "secret_file": true,
	"socket_group": true, "watch": true, "status": true, "ping": true, "admin": true,
	"tempdir": true,
}

// Parse reads Django's runfcgi arguments: key=value pairs (keys are not case
// sensitive, as in Django) and the lone word "help". It checks every value
// and combination, so Main only fails later for reasons of the system
// (a port in use, a missing directory).
func Parse(args []string, d Defaults) (Options, error) {
	o := Options{
		Protocol:    "fcgi",
		Method:      "threaded",
		MaxSpare:    5,
		MinSpare:    2,
		MaxChildren: 50,
		Umask:       -1,
		SocketMode:  0o660,
	}
	switch d.Protocol {
	case "fcgi", "scgi", "ajp":
		o.Protocol = d.Protocol
	}
	// As in Django, asking for help wins over anything else on the line,
	// mistakes included: the help is what shows how to fix them.
	for _, arg := range args {
		if k, _, _ := strings.Cut(arg, "="); strings.EqualFold(k, "help") {
			o.Help = true
			return o, nil
		}
	}
	seen := make(map[string]string, len(args))
	for _, arg := range args {
		k, v, ok := strings.Cut(arg, "=")
		k = strings.ToLower(k)
		if !ok {
			return Options{}, usagef("argument %q is not key=value (keys: %s)", arg, strings.Join(keyNames, ", "))
		}
		if !isKey(k) {
			return Options{}, usagef("unknown key %q in %q (keys: %s)", k, arg, strings.Join(keyNames, ", "))
		}
		if prev, dup := seen[k]; dup {
			return Options{}, usagef("key %q given twice (%q and %q); give it once", k, prev, arg)
		}
		seen[k] = arg
		if v == "" && optionalWhenEmpty[k] {
			continue
		}
		if err := o.set(k, v); err != nil {
			return Options{}, err
		}
	}
	if err := o.check(seen, d); err != nil {
		return Options{}, err
	}
	return o, nil
}

func isKey(k string) bool {
	for _, n := range keyNames {
		if n == k {
			return true
		}
	}
	return false
}

// set stores one value; checks that involve other keys wait for check.
func (o *Options) set(k, v string) error {
	if ok, err := o.setOps(k, v); ok {
		return err
	}
	if ok, err := o.setLimits(k, v); ok {
		return err
	}
	var err error
	switch k {
	case "protocol":
		switch v {
		case "fcgi", "scgi", "ajp":
			o.Protocol = v
		default:
			return usagef("protocol=%q: want fcgi, scgi or ajp", v)
		}
	case "host":
		o.Host = strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
	case "port":
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 || n > 65535 {
			return usagef("port=%q: want a number from 1 to 65535", v)
		}
		o.Port = n
	case "socket":
		o.Socket = v
	case "method":
		switch v {
		case "prefork", "fork":
			o.Method = "prefork"
		case "threaded", "thread":
			o.Method = "threaded"
		default:
			return usagef("method=%q: want prefork, fork, threaded or thread", v)
		}
	case "maxrequests":
		o.MaxRequests, err = count(k, v, 0)
	case "maxspare":
		o.MaxSpare, err = count(k, v, 1)
	case "minspare":
		o.MinSpare, err = count(k, v, 0)
	case "maxchildren":
		o.MaxChildren, err = count(k, v, 1)
	case "daemonize":
		o.Daemonize, err = boolean(k, v)
	case "debug":
		o.Debug, err = boolean(k, v)
	case "pidfile":
		o.PIDFile = v
	case "workdir":
		if v == "" {
			return usagef("workdir=: want a directory")
		}
		o.WorkDir = v
	case "umask":
		n, perr := strconv.ParseUint(v, 8, 32)
		if perr != nil || n > 0o777 {
			return usagef("umask=%q: want an octal number from 0 to 777, such as 022", v)
		}
		o.Umask = int(n)
	case "outlog":
		o.OutLog = v
	case "errlog":
		o.ErrLog = v
	case "secret":
		o.Secret = v
	case "secret_file":
		o.SecretFile = v
	case "socket_mode":
		n, perr := strconv.ParseUint(v, 8, 32)
		if perr != nil || n > 0o777 {
			return usagef("socket_mode=%q: want an octal mode from 0 to 777, such as 0660", v)
		}
		if n&0o200 == 0 {
			return usagef("socket_mode=%q: the owner needs write permission (0200) to remove and replace the socket; want such as 0660", v)
		}
		o.SocketMode = int(n)
	case "socket_group":
		if strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == ':' || r == '/' || r == 0x7f }) {
			return usagef("socket_group=%q: want a group name or number", v)
		}
		o.SocketGroup = v
	case "watch":
		o.Watch = v
	}
	return err
}

func count(k, v string, min int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return 0, usagef("%s=%q: want a whole number of at least %d", k, v, min)
	}
	return n, nil
}

// boolean accepts Django's spellings for daemonize.
func boolean(k, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "yes", "t":
		return true, nil
	case "false", "no", "f":
		return false, nil
	}
	return false, usagef("%s=%q: want true, yes, t, false, no or f", k, v)
}

// check applies the rules that involve several keys, as Django's runfastcgi
// does, and fills in the defaults that depend on them.
func (o *Options) check(seen map[string]string, d Defaults) error {
	if o.Method == "prefork" {
		if err := o.preforkDefaults(seen); err != nil {
			return err
		}
	}
	if err := o.checkOps(); err != nil {
		return err
	}
	if err := o.checkLimits(seen); err != nil {
		return err
	}
	if o.MinSpare > o.MaxSpare {
		return usagef("minspare=%d is more than maxspare=%d; want minspare <= maxspare", o.MinSpare, o.MaxSpare)
	}
	if o.MaxSpare > o.MaxChildren {
		return usagef("maxspare=%d is more than maxchildren=%d; want maxspare <= maxchildren", o.MaxSpare, o.MaxChildren)
	}
	hostPort := o.Host != "" || o.Port != 0
	switch {
	case o.Host != "" && o.Port != 0 && o.Socket == "":
		if err := checkHost(o.Host); err != nil {
			return err
		}
	case o.Socket != "" && !hostPort:
		if err := checkSocket(o.Socket); err != nil {
			return err
		}
	case o.Socket == "" && !hostPort:
		o.DefaultAddress = true
		o.Socket, o.Host, o.Port = d.Socket, d.Host, d.Port
		if o.Socket != "" {
			o.Host, o.Port = "", 0
		}
	default:
		return usagef("invalid combination of host, port, socket: give host and port, or socket, or none of them")
	}
	if _, given := seen["daemonize"]; !given {
		o.Daemonize = !o.DefaultAddress
	}
	if o.Secret != "" && o.Protocol != "ajp" {
		return usagef("secret= is only used with protocol=ajp, not protocol=%s", o.Protocol)
	}
	if o.SecretFile != "" && o.Protocol != "ajp" {
		return usagef("secret_file= is only used with protocol=ajp, not protocol=%s", o.Protocol)
	}
	if hostPort {
		for _, k := range []string{"socket_mode", "socket_group"} {
			if _, given := seen[k]; given {
				return usagef("%s= applies to a unix socket (socket=), not to host=%s port=%d", k, o.Host, o.Port)
			}
		}
	}
	// The Ghostcat rule (AJP on a public address needs a secret) waits for
	// loadSecret, which also knows the secret from a file or the environment.
	return nil
}

// checkHost rejects what can never be listened on, so the error comes from
// Parse rather than from a failed listen after daemonizing.
func checkHost(h string) error {
	if strings.ContainsAny(h, " /[]") {
		return usagef("host=%q: want a host name or an IP address", h)
	}
	return nil
}

// maxSocketPath is the size of sockaddr_un.sun_path, which includes the
// terminating NUL.
func maxSocketPath() int {
	switch runtime.GOOS {
	case "linux", "android", "windows":
		return 108
	}
	return 104
}

func checkSocket(p string) error {
	if max := maxSocketPath() - 1; len(p) > max {
		return usagef("socket=%q is %d bytes long; a unix socket path may have at most %d on %s", p, len(p), max, runtime.GOOS)
	}
	if strings.IndexByte(p, 0) >= 0 {
		return usagef("socket=%q contains a NUL byte", p)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Usage is the text of "runfcgi help".
func Usage() string { return usageText }

const usageText = `runfcgi [key=value ...]

  Run this project behind a web server over FastCGI, SCGI or AJP13,
  as Django's "manage.py runfcgi" did.

Keys (key=value; "help" alone prints this):
  protocol=PROTOCOL    fcgi, scgi or ajp (default: the project's, else fcgi).
  host=HOSTNAME        host name or IP address to listen on.
  port=PORTNUM         TCP port to listen on.
  socket=FILE          unix socket to listen on; its directory must exist.
  method=IMPL          threaded or prefork (default threaded, the fast path;
                       fork and thread are accepted as in Django).
  maxrequests=NUMBER   requests a prefork worker serves before it is replaced
                       (default 0 = no limit).
  maxspare=NUMBER      most idle workers (default: threaded 5 goroutines,
                       prefork one process per core).
  minspare=NUMBER      fewest idle workers (default: threaded 2, prefork one
                       per core); a prefork worker is idle until saturated.
  maxchildren=NUMBER   most workers at once (default: threaded 50, prefork
                       two per core).
  daemonize=BOOL       detach from the terminal (default: true when host and
                       port or socket is given).
  pidfile=FILE         write the serving process's pid to this file (refused
                       when it names a running process).
  workdir=DIRECTORY    change to this directory once listening (default /
                       when daemonizing).
  debug=BOOL           log every request, once.
  outlog=FILE          a daemon's stdout (default /dev/null).
  errlog=FILE          a daemon's stderr (default /dev/null).
  umask=UMASK          umask in octal for the log files (default 022 when
                       daemonizing); the socket's mode is socket_mode.
  secret_file=FILE     AJP shared secret: the first line of FILE, which must
                       not be readable by every user (mode 0600 or 0640).
                       The secret may also come from the environment
                       variable APPGEN_AJP_SECRET. One of them is required
                       for AJP on a non-loopback address.
  secret=SECRET        the AJP secret on the command line: works, but every
                       local user can read it (ps); prefer secret_file=.
  socket_mode=MODE     permissions of the unix socket in octal (default
                       0660: its owner and group may connect).
  socket_group=GROUP   group of the unix socket, such as www-data (default:
                       the process's group).
  watch=FILE           when FILE's modification time changes, finish the
                       requests in flight, then restart in place if the web
                       server spawned the process (touch mysite.fcgi), else
                       exit.
  BOOL is true, yes, t, false, no or f.

Operations (not in Django):
  timeout=DURATION     answer a request still running after DURATION with
                       504 and cancel its context; prefork replaces a worker
                       whose handler ignores that (default: no limit).
  slowlog=DURATION     log the stack of a request running longer, once
                       (default: off).
  jitter=NUMBER        add a random 0..NUMBER to each prefork worker's
                       maxrequests (default 0).
  maxrss=SIZE          replace a prefork worker whose resident memory passes
                       SIZE (512M, 1G; default: no limit).
  status=PATH          answer PATH with php-fpm's status page (?json,
                       ?openmetrics, ?full); restrict it in the web server.
  ping=PATH            answer PATH with "pong".
  admin=HOST:PORT      HTTP listener for probes and scrapers: /healthz,
                       /readyz, /metrics (OpenMetrics).
  DURATION is like 30s or 1m30s.

Server limits (not in Django; the default is the server's):
  backlog=NUMBER       threaded: requests that wait for a handler when
                       maxchildren run (default 1024; 0: refuse at once).
  maxconns=NUMBER      connections at once (default 1024).
  maxinflight=NUMBER   requests in flight at once, waiting ones included
                       (default: fcgi 1024, scgi and ajp maxconns).
  maxmpx=NUMBER        fcgi: requests at once on one connection (default 64).
  maxheader=SIZE       a request's variables (default 64K; ajp: a packet).
  maxbody=SIZE         the largest request body (default 64M).
  bodybuffer=SIZE      fcgi: the largest body kept in memory (default 128K).
  maxspill=SIZE        fcgi: bodies buffered on disk at once (default 1G).
  tempdir=DIRECTORY    fcgi: where large bodies are buffered (default: the
                       system's, $TMPDIR or /tmp).
  headertimeout=DURATION  a request's variables must arrive within it (10s).
  minbodyrate=SIZE     slowest body, bytes a second after 5s (default 1K;
                       0: no minimum).
  readtimeout=DURATION   each wait for more of a request (default 60s).
  writetimeout=DURATION  each write of a response (default 60s).
  idletimeout=DURATION   a connection without a request (default: fcgi and
                       ajp 5m, scgi 60s).
  SIZE is bytes, or with K, M or G (powers of 1024).

With none of host, port and socket: serve on the listening socket the web
server passed as stdin (mod_fcgid, lighttpd bin-path, a shared host's .fcgi),
answer one CGI request when GATEWAY_INTERFACE is set, else listen on the
project's address from settings/deploy.go.

Examples:
  Spawned by the web server (mod_fcgid, lighttpd bin-path):
    $ ./mysite runfcgi method=threaded
  SCGI on a TCP host and port:
    $ ./mysite runfcgi protocol=scgi method=prefork host=127.0.0.1 port=8025
  FastCGI on a unix socket:
    $ ./mysite runfcgi method=prefork socket=/tmp/fcgi.sock
  FastCGI on a unix socket that nginx (group www-data) may connect to:
    $ ./mysite runfcgi socket=/run/mysite/mysite.sock socket_group=www-data
  AJP on a public address, the secret in a 0600 file:
    $ ./mysite runfcgi protocol=ajp host=0.0.0.0 port=8009 \
        secret_file=/etc/mysite/ajp-secret
  A daemon that writes its pid to a file:
    $ ./mysite runfcgi socket=/tmp/fcgi.sock method=prefork \
        daemonize=true pidfile=/var/run/mysite.pid
  Stop it:
    $ kill $(cat /var/run/mysite.pid)
`
