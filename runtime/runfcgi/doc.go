// Package runfcgi is Django 1.8's "manage.py runfcgi" for a Go http.Handler:
// it reads Django's key=value options, opens the listening socket, chooses
// the process model and the protocol server, and runs them as a foreground
// process, a daemon, or a child the web server spawned.
//
// A generated project's main.go reaches it through runtime/manage:
//
//	./mysite runfcgi method=threaded host=127.0.0.1 port=3033
//	./mysite runfcgi method=prefork socket=/home/user/mysite.sock pidfile=mysite.pid
//	./mysite runfcgi help
//
// Where the process listens follows Django's rules: host and port, or
// socket, or none of them. With none, a listening socket on stdin means the
// web server spawned the process (mod_fcgid, lighttpd's bin-path, a shared
// host's mysite.fcgi), and it serves there, accepting only the peers in
// FCGI_WEB_SERVER_ADDRS when that is set; when stdin is not a listening
// socket but GATEWAY_INTERFACE is set, it answers one CGI request; otherwise
// it listens on the project's Defaults.
//
// The process models: method=threaded (the default) runs one process whose
// protocol server hands each request to a workpool.Pool (minspare and
// maxspare bound the idle goroutines, maxchildren the handlers running at
// once); method=prefork runs a prefork master that re-executes this program
// as worker processes sharing the socket, one per core by default. SIGTERM
// and SIGINT let the requests in flight finish, then remove the unix socket
// and the pidfile and exit 0; a second one stops at once. SIGHUP makes
// prefork replace its workers, and a threaded process hand its socket to
// the binary now on disk and drain once that serves. A socket passed by
// systemd (LISTEN_FDS) is served instead of the address.
//
// Operations keys beyond Django's: timeout= and slowlog= supervise
// requests, jitter= and maxrss= recycle prefork workers, status= and ping=
// answer php-fpm's status page and ping through the web server, and admin=
// opens an HTTP listener with /healthz, /readyz and /metrics.
//
// A process the web server spawned never exits on its own, since the web
// server would keep sending requests to it until it noticed: when watch=
// sees its file change, or a threaded process has served maxrequests, it
// finishes the requests in flight and re-executes itself with the same pid,
// the listening socket kept open on fd 0 (connections wait in its backlog).
//
// daemonize=true re-executes the program in a new session with its output
// in outlog and errlog, and the parent exits only once the daemon listens,
// with the daemon's error and status 1 if it could not. Before any of this,
// the process started from the command line runs Site.Preflight (the
// settings checks runtime/manage passes) and prints its warnings, so they
// reach the terminal; a pidfile naming a running process is refused.
//
// A unix socket is 0660 (socket_mode=) in the process's group or the one
// socket_group= names, as php-fpm's listen.mode and listen.group; its
// directory must exist. The AJP secret comes from secret_file=, the
// APPGEN_AJP_SECRET variable (SecretEnv) or secret= (with a warning), and
// reaches the processes runfcgi starts through their environment, never
// their command line.
//
// Not supported: Windows named pipes (Django's socket= on win32), and
// daemonizing on systems other than unix.
package runfcgi
