package runfcgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/appgen/appgen/runtime/middleware"
)

// Site is what a project hands to runfcgi: its application and settings.
type Site struct {
	// Handler serves every request. Required.
	Handler http.Handler
	// Defaults are the project's protocol and address (settings/deploy.go).
	Defaults Defaults
	// ForceScriptName, when non-nil, is the script name of every request
	// (Django's FORCE_SCRIPT_NAME). Default nil: from the request.
	ForceScriptName *string
	// Stdout and Stderr receive help and errors. Default nil: os.Stdout and
	// os.Stderr.
	Stdout, Stderr io.Writer
	// Preflight, when non-nil, is called once before anything listens, in the
	// process started from the command line (not in the daemon or the
	// workers it starts, whose output may go to a log nobody reads), with
	// the parsed options. Its warnings are printed to Stderr; an error stops
	// runfcgi with status 1. runtime/manage passes the settings checks here,
	// so a production site with a known secret key does not start. Default
	// nil: no checks.
	Preflight func(Options) (warnings []string, err error)
}

// Main runs "runfcgi" with args (the key=value arguments after the command
// name) and returns the exit status: 0 after a clean stop, 1 when serving
// failed, 2 for a command line error.
func Main(args []string, site Site) int {
	stdout, stderr := site.Stdout, site.Stderr
	if stdout == nil {
		stdout = os.Stdout
	}
	if stderr == nil {
		stderr = os.Stderr
	}
	o, err := Parse(args, site.Defaults)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if o.Help {
		fmt.Fprint(stdout, Usage())
		return 0
	}
	if site.Handler == nil {
		fmt.Fprintln(stderr, "runfcgi: Site.Handler is nil; the project must pass its application")
		return 1
	}
	if o.Watch != "" {
		// Checked every second, also after the chdir to workdir.
		if o.Watch, err = filepath.Abs(o.Watch); err != nil {
			fmt.Fprintf(stderr, "runfcgi: watch=%s: %v\n", o.Watch, err)
			return 1
		}
	}
	if err := o.loadSecret(os.LookupEnv, stderr); err != nil {
		fmt.Fprintln(stderr, err)
		if errors.Is(err, ErrUsage) {
			return 2
		}
		return 1
	}
	r := &run{o: o, site: site, stderr: stderr, log: log.New(stderr, "", log.LstdFlags)}
	if r.notifier, err = takeNotifier(); err != nil {
		// The site serves anyway; systemd, if it waits, says it timed out.
		r.log.Printf("%v; not notifying", err)
	}
	r.handOver()
	r.ops.start = time.Now()
	// A restart in place runs the same arguments, whose relative paths
	// mean what they meant here, before any workdir.
	r.startDir, _ = os.Getwd()
	if isWorker() {
		return r.exit(r.worker())
	}
	r.ready = takeReadyPipe()
	// A daemon's parent already checked the command line and chose to
	// listen; the daemon must not look at fd 0, which is /dev/null.
	spawned := r.ready == nil && o.DefaultAddress && isListeningSocket(0)
	cgi := r.ready == nil && o.DefaultAddress && !spawned && os.Getenv("GATEWAY_INTERFACE") != ""
	if r.ready == nil {
		// Said here, before daemonizing, so that it reaches the terminal.
		if err := r.preflight(spawned, cgi); err != nil {
			return r.exit(err)
		}
	}
	if r.ready == nil && o.DefaultAddress {
		switch {
		case spawned:
			err := r.spawned()
			// A stop signal wins over a restart under way: the web server
			// wants the process gone.
			if err == nil && r.restart.Load() && !r.signalled.Load() {
				err = reexec(r.startDir, r.childEnv())
			}
			return r.exit(err)
		case cgi:
			return r.exit(serveCGI(r.handler(), site.ForceScriptName))
		}
	}
	if r.ready == nil && o.Daemonize && !socketActivated() {
		return daemonize(o, r.childEnv(daemonEnv+"=3"), stderr)
	}
	err = r.standalone()
	if err != nil {
		r.ready.fail(err)
	}
	return r.exit(err)
}

// run is one runfcgi invocation.
type run struct {
	o      Options
	site   Site
	stderr io.Writer
	log    *log.Logger
	ready  *readyPipe
	// served counts finished requests for maxrequests in threaded mode.
	served   atomic.Int64
	startDir string
	// restart is set when a spawned process stops to replace itself
	// (watch=, maxrequests) rather than for good; signalled when a stop
	// signal arrived.
	restart, signalled atomic.Bool
	// sup applies timeout= and slowlog=; its stuck hook is set by a prefork
	// worker before it makes its handler.
	sup supervisor
	// ops is behind status=, ping= and admin=.
	ops ops
	// notifier tells systemd how the service is (NOTIFY_SOCKET); nil
	// outside a Type=notify unit.
	notifier *notifier
	// ln is what standalone listens on, for a threaded SIGHUP to hand over;
	// claimSocket, if set, makes a handed-over socket file ours once serving.
	ln          *listening
	claimSocket func()
}

func (r *run) exit(err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(r.stderr, err)
	if errors.Is(err, ErrUsage) {
		return 2
	}
	return 1
}

// preflight says what the process is about to do wrong, before it listens:
// the warnings the options call for, the site's checks (Site.Preflight),
// and a pidfile that belongs to a running server. A process the web server
// runs for one CGI request keeps quiet about warnings, which would fill the
// web server's error log with one copy per request.
func (r *run) preflight(spawned, cgi bool) error {
	var warnings []string
	if r.o.Method == "threaded" && r.o.MaxRequests > 0 && !spawned && !cgi {
		warnings = append(warnings, maxRequestsIgnored(r.o))
	}
	var err error
	if r.site.Preflight != nil {
		var w []string
		w, err = r.site.Preflight(r.o)
		warnings = append(warnings, w...)
	}
	if !cgi {
		for _, w := range warnings {
			fmt.Fprintln(r.stderr, w)
		}
	}
	if err != nil {
		return err
	}
	if r.o.PIDFile != "" && !cgi {
		return checkPIDFile(r.o.PIDFile)
	}
	return nil
}

func maxRequestsIgnored(o Options) string {
	return fmt.Sprintf("runfcgi: warning: maxrequests=%d is ignored with method=threaded outside a web server's spawn (as in Django); use method=prefork to recycle workers", o.MaxRequests)
}

// standalone listens on the address from the command line or the project's
// defaults: in the foreground or as the daemon daemonize started.
func (r *run) standalone() error {
	if r.o.Umask >= 0 {
		setUmask(r.o.Umask)
	}
	ln, err := r.listener()
	if err != nil {
		return err
	}
	defer ln.close()
	r.ln = ln
	if err := r.checkAJP(ln.l.Addr()); err != nil {
		return err
	}
	if r.o.PIDFile != "" {
		remove, err := writePIDFile(r.o.PIDFile, os.Getpid())
		if err != nil {
			return err
		}
		defer remove()
	}
	if err := r.chdir(); err != nil {
		return err
	}
	return r.serve(ln.l, false)
}

// chdir changes to workdir once the paths given relative to the starting
// directory have been used; a daemon goes to "/" by default, as in Django,
// so that it keeps no directory busy.
func (r *run) chdir() error {
	workdir := r.o.WorkDir
	if workdir == "" && r.ready != nil && r.o.Daemonize {
		workdir = "/"
	}
	if workdir == "" {
		return nil
	}
	if err := os.Chdir(workdir); err != nil {
		return fmt.Errorf("runfcgi: workdir=%s: %w", workdir, err)
	}
	return nil
}

// spawned serves on the socket a web server passed as fd 0.
func (r *run) spawned() error {
	l, err := spawnedListener()
	if err != nil {
		return err
	}
	defer l.Close()
	if err := r.checkAJP(l.Addr()); err != nil {
		return err
	}
	if r.o.PIDFile != "" {
		remove, err := writePIDFile(r.o.PIDFile, os.Getpid())
		if err != nil {
			return err
		}
		defer remove()
	}
	if err := r.chdir(); err != nil {
		return err
	}
	return r.serve(l, true)
}

// checkAJP refuses an unauthenticated AJP listener that other machines can
// reach; Parse already caught an explicit host=, this catches the project's
// default and a socket inherited from the web server.
func (r *run) checkAJP(a net.Addr) error {
	if r.o.Protocol != "ajp" || r.o.Secret != "" {
		return nil
	}
	if tcp, ok := a.(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		return fmt.Errorf("runfcgi: protocol=ajp listening on %s needs secret=: without one anyone who reaches the port can forge requests", a)
	}
	return nil
}

// serve runs the process model on l until a stop signal, a watched file's
// change or (threaded, spawned) maxrequests; then it drains.
func (r *run) serve(l net.Listener, spawned bool) error {
	ctx, stop := r.stopContext()
	defer stop()
	if r.o.Watch != "" {
		if err := watch(ctx, r.o.Watch, time.Second, func() {
			if spawned {
				r.log.Printf("runfcgi: %s changed; restarting after the requests in flight", r.o.Watch)
				r.restart.Store(true)
			} else {
				r.log.Printf("runfcgi: %s changed; exiting after the requests in flight", r.o.Watch)
			}
			stop()
		}); err != nil {
			return err
		}
	}
	if r.o.Debug {
		r.log.Printf("runfcgi: serving %s (method=%s) on %s, pid %d", r.o.Protocol, r.o.Method, l.Addr(), os.Getpid())
	}
	if r.o.Method == "prefork" {
		// The pipe closes before any worker starts, so the parent returns
		// while the listener is already accepting (into its backlog). A
		// daemon tells systemd it is the main process before its parent
		// exits; READY=1 waits for the workers (notifyPrefork).
		if r.ready != nil {
			r.notify("MAINPID=" + strconv.Itoa(os.Getpid()))
		}
		r.ready.ready()
		if r.o.Secret != "" {
			// Workers inherit the master's environment (the prefork
			// package adds only its own variable), and each takes the
			// secret out of its own once read (handOver). The master runs
			// no handler.
			os.Setenv(SecretEnv, r.o.Secret)
		}
		return r.master(ctx, l)
	}
	return r.threaded(ctx, stop, l, spawned)
}

// stopContext is done at the first SIGTERM or SIGINT, or when its cancel
// function is called (a watched file changed, maxrequests). The signals stay
// caught until the process exits, so a late one cannot kill it before the
// socket file and pidfile are removed; a second one during the drain makes
// it give up (see drain).
func (r *run) stopContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, stopSignals...)
	go func() {
		select {
		case s := <-sigc:
			r.signalled.Store(true)
			r.log.Printf("runfcgi: %v: finishing the requests in flight (send it again to stop at once)", s)
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// threaded serves in this process, running handlers on a bounded pool.
func (r *run) threaded(ctx context.Context, stop context.CancelFunc, l net.Listener, spawned bool) error {
	pool, err := newPool(r.o)
	if err != nil {
		return err
	}
	h := r.handler()
	if r.o.MaxRequests > 0 {
		if spawned {
			h = r.countRequests(h, stop)
		} else if r.ready != nil {
			// The terminal heard it from the parent (preflight); the
			// daemon's errlog keeps it too.
			r.log.Print(maxRequestsIgnored(r.o))
		}
	}
	srv, err := r.newServer(h, pool)
	if err != nil {
		closePool(pool)
		return err
	}
	r.ops.setView(r.threadedView(pool, l))
	if r.o.Admin != "" {
		a, err := startAdmin(r.o.Admin, &r.ops, r.log.Printf)
		if err != nil {
			closePool(pool)
			return err
		}
		defer a.close()
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, hangup)
	defer signal.Stop(hup)
	errc := make(chan error, 1)
	ql := &queueListener{Listener: l}
	ql.shared.Store(spawned || (r.ln != nil && r.ln.heldElsewhere))
	go func() { errc <- srv.Serve(ql) }()
	// systemd hears it first: a successor's MAINPID must reach it before
	// the readiness pipe lets the old main process drain and exit.
	r.notifyReady(r.serving(l))
	r.ready.ready()
	if r.claimSocket != nil {
		r.claimSocket()
	}
	for {
		select {
		case err := <-errc:
			closePool(pool)
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return fmt.Errorf("runfcgi: serving on %s: %w", l.Addr(), err)
		case <-hup:
			// The web server that spawned the process owns its lifecycle
			// (touch the watch= file there); otherwise the binary on disk
			// takes over the socket and this process drains.
			if spawned || r.ln == nil {
				r.log.Printf("runfcgi: SIGHUP ignored in a process the web server spawned; touch its watch= file to restart it")
				continue
			}
			r.notifyReloading(fmt.Sprintf("SIGHUP: starting the binary on disk; pid %d serves meanwhile", os.Getpid()))
			if err := r.handOff(ctx, r.ln); err != nil {
				r.notifyReady(err.Error())
			} else {
				// The successor is the main process now and said so;
				// this one drains without a word to systemd, leaving
				// the socket's queue to the successor.
				ql.shared.Store(true)
				r.ops.draining.Store(true)
				err := r.drain(srv)
				<-errc
				closePool(pool)
				return err
			}
		case <-ctx.Done():
			r.notifyStopping(fmt.Sprintf("stopping: finishing the requests in flight (pid %d)", os.Getpid()))
			r.ops.draining.Store(true)
			err := r.drain(srv)
			<-errc
			closePool(pool)
			return err
		}
	}
}

// serving is the STATUS= line of a process serving on l.
func (r *run) serving(l net.Listener) string {
	return fmt.Sprintf("serving %s on %s (method=%s, pid %d)", r.o.Protocol, l.Addr(), r.o.Method, os.Getpid())
}

// drain stops accepting and waits for the requests in flight; a second stop
// signal closes everything at once.
func (r *run) drain(srv server) error {
	force, cancel := signal.NotifyContext(context.Background(), stopSignals...)
	defer cancel()
	if err := srv.Shutdown(force); err != nil {
		srv.Close()
		return fmt.Errorf("runfcgi: stopped before the requests in flight finished: %w", err)
	}
	return nil
}

// countRequests restarts a spawned server after o.MaxRequests requests.
func (r *run) countRequests(h http.Handler, stop context.CancelFunc) http.Handler {
	max := int64(r.o.MaxRequests)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		defer func() {
			if r.served.Add(1) == max {
				r.log.Printf("runfcgi: served maxrequests=%d; restarting after the requests in flight", max)
				r.restart.Store(true)
				stop()
			}
		}()
		h.ServeHTTP(w, req)
	})
}

// handler is the site's handler under timeout= and slowlog=, logging every
// request when debug=true: once, since middleware.Logger leaves a request to
// a Logger inside the site's own chain when it has one.
func (r *run) handler() http.Handler {
	r.sup.timeout, r.sup.slowlog, r.sup.log = r.o.Timeout, r.o.SlowLog, r.log
	h := r.opsHandler(r.sup.wrap(r.site.Handler))
	if !r.o.Debug {
		return h
	}
	return middleware.Logger(r.log)(h)
}

// reexec replaces this spawned process with a fresh run of its program,
// after the requests in flight have finished and the listener copy is
// closed. The listening socket stays open on fd 0 meanwhile, so connections
// wait in its backlog, and the pid stays the same: the web server never
// sees the process gone. Exiting instead would not do: mod_fcgid keeps
// sending requests to an exited process until it notices (its own
// documentation warns about PHP_FCGI_MAX_REQUESTS for this reason), and
// those requests fail. The program is looked up again, so a rebuilt binary
// is what runs next.
func reexec(dir string, env []string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("runfcgi: restarting: finding this program: %w", err)
	}
	if dir != "" {
		if err := os.Chdir(dir); err != nil {
			return fmt.Errorf("runfcgi: restarting: back to %s: %w", dir, err)
		}
	}
	if err := execve(exe, os.Args, env); err != nil {
		return fmt.Errorf("runfcgi: restarting %s: %w", exe, err)
	}
	return nil
}
