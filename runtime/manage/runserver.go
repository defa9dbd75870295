package manage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/appgen/appgen/runtime/gateway"
	"github.com/appgen/appgen/runtime/middleware"
	"github.com/appgen/appgen/runtime/runfcgi"
)

// runserver is Django's development server on net/http.
func (m *command) runserver(args []string) int {
	addrArg := defaultAddr
	reload := true
	adminArg := ""
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-h", a == "--help", a == "help":
			return m.help([]string{"runserver"})
		case a == "--noreload", a == "-noreload":
			reload = false
		case a == "--admin", a == "-admin":
			if i+1 == len(args) {
				m.errorf("runserver: --admin wants an address, HOST:PORT such as 127.0.0.1:9001")
				return ExitUsage
			}
			i++
			adminArg = args[i]
		case strings.HasPrefix(a, "--admin="), strings.HasPrefix(a, "-admin="):
			_, adminArg, _ = strings.Cut(a, "=")
		default:
			rest = append(rest, a)
		}
	}
	switch {
	case len(rest) == 1:
		addrArg = rest[0]
	case len(rest) > 1:
		m.errorf("runserver: too many arguments %q; want at most an address (and --noreload, --admin ADDR)", rest)
		return ExitUsage
	}
	adminAddr := ""
	if adminArg != "" {
		var err error
		if adminAddr, err = parseAddr(adminArg); err != nil {
			m.errorf("runserver: --admin %s", strings.TrimPrefix(err.Error(), "runserver: "))
			return ExitUsage
		}
		if reload {
			// Each build the reloader starts would listen on it while the previous one drains.
			m.errorf("runserver: --admin %s needs --noreload: the admin listener belongs to a server that is not rebuilt", adminArg)
			return ExitUsage
		}
	}
	addr, err := parseAddr(addrArg)
	if err != nil {
		m.errorf("%v", err)
		return ExitUsage
	}
	inherited, err := inheritedListener()
	if err != nil {
		m.errorf("runserver: %v", err)
		return ExitError
	}
	if inherited == nil && reload {
		if rl, err := newReloader(m); err != nil {
			fmt.Fprintf(m.stderr, "%s: runserver: not reloading on changes: %v\n", m.name, err)
		} else {
			return rl.run(addr)
		}
	}

	// Warnings only: runserver is for trying things out, and check is the gate a deployment uses.
	fmt.Fprintln(m.stdout, "Performing system checks...")
	m.reportProblems("System check identified some issues (runserver goes on; check fails on them):", m.settingsProblems())

	// Listen for signals before the address is printed, so that a signal sent as soon as the
	// server says it is up is a request to stop, not the default action that kills the process.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	l := inherited
	if l == nil {
		if l, err = net.Listen("tcp", addr); err != nil {
			m.errorf("runserver: %v", err)
			return ExitError
		}
	}
	errorLog := log.New(m.stderr, "", log.LstdFlags)
	handler, closeStatic := m.serverHandler(errorLog)
	defer closeStatic()
	var admin *runfcgi.Admin
	if adminAddr != "" {
		if admin, err = runfcgi.ListenAdmin(adminAddr, errorLog.Printf); err != nil {
			l.Close()
			m.errorf("runserver: --admin: %v", err)
			return ExitError
		}
		// Closed last, after the drain: /healthz answers while requests finish.
		defer admin.Close()
		handler = admin.Count(handler)
	}
	srv := &http.Server{
		Handler:  handler,
		ErrorLog: errorLog,
		// A client that never finishes its headers must not hold a connection, and so a graceful
		// stop, forever.
		ReadHeaderTimeout: time.Minute,
	}
	if m.site.Profile != "" {
		fmt.Fprintf(m.stdout, "Using settings profile %q.\n", m.site.Profile)
	}
	if admin != nil {
		fmt.Fprintf(m.stdout, "Admin listener at http://%s/ (/healthz, /readyz, /metrics).\n", admin.Addr())
	}
	fmt.Fprintf(m.stdout, "Starting development server at http://%s%s/\nQuit the server with CONTROL-C.\n",
		l.Addr(), m.scriptName())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	var sig os.Signal
	select {
	case err := <-served:
		m.errorf("runserver: %v", err)
		return ExitError
	case sig = <-sigs:
	}
	if admin != nil {
		// /readyz fails before the listener closes, so a load balancer that still sends here
		// hears "draining" from the probe, not refused connections.
		admin.Drain()
	}
	fmt.Fprintf(m.stdout, "\nReceived %v: stopping; waiting for the requests in flight to finish (send it again to stop at once).\n", sig)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Shutdown(ctx) }()
	select {
	case err := <-stopped:
		<-served
		if err != nil {
			m.errorf("runserver: stopping: %v", err)
			return ExitError
		}
		fmt.Fprintln(m.stdout, "Server stopped.")
		return ExitOK
	case sig = <-sigs:
		cancel()
		srv.Close()
		<-stopped
		<-served
		m.errorf("runserver: stopped by a second %v with requests still in flight", sig)
		return ExitError
	}
}

// scriptName is the forced mount prefix without its trailing slash, "" for none.
func (m *command) scriptName() string {
	if m.site.ForceScriptName == nil {
		return ""
	}
	return strings.TrimRight(*m.site.ForceScriptName, "/")
}

// serverHandler is what a web server in front of the site would do in development: static files
// at StaticURL (from the host's root, as the web server serves them), and the application
// mounted at the forced script name. The function it returns closes the static root.
func (m *command) serverHandler(errorLog *log.Logger) (http.Handler, func()) {
	app := m.site.Handler
	if m.site.ForceScriptName != nil {
		app = mount(m.scriptName(), app, errorLog)
	}
	static := m.site.StaticURL
	if !m.site.ServeStatic || m.site.StaticRoot == "" || !strings.HasPrefix(static, "/") || !strings.HasSuffix(static, "/") {
		return app, func() {}
	}
	// os.Root keeps every open inside StaticRoot: a symbolic link that leads out of it (to
	// the source, to /etc) is not followed, where os.DirFS would follow it.
	root, err := os.OpenRoot(m.site.StaticRoot)
	if err != nil {
		fmt.Fprintf(m.stderr, "%s: runserver: not serving static files: StaticRoot: %v\n", m.name, err)
		return app, func() {}
	}
	// The application logs its own requests; static ones are logged here, in the same format,
	// and pass the same Host check the application's requests do (a page served to a
	// rebinding DNS name could otherwise read them).
	files := middleware.Chain(
		http.StripPrefix(strings.TrimSuffix(static, "/"), noDirListing(http.FileServerFS(confined{root.FS()}))),
		middleware.Logger(errorLog), middleware.AllowedHosts(m.staticHosts(), errorLog))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, static) {
			files.ServeHTTP(w, r)
			return
		}
		app.ServeHTTP(w, r)
	}), func() { root.Close() }
}

// loopbackHosts are the Host names a development server answers when the settings list none,
// as Django does with DEBUG on and ALLOWED_HOSTS empty.
var loopbackHosts = []string{".localhost", "127.0.0.1", "[::1]"}

// staticHosts are the Host names static files are served to: the settings' allowed hosts.
func (m *command) staticHosts() []string {
	if d := m.site.Deploy; d != nil && (len(d.AllowedHosts) > 0 || !d.Debug) {
		return d.AllowedHosts
	}
	return loopbackHosts
}

// confined answers "not found" for a path os.Root refuses because it leads out of the root,
// as for any file that is not there, rather than a 500.
type confined struct{ fs.FS }

func (c confined) Open(name string) (fs.File, error) {
	f, err := c.FS.Open(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return f, err
}

// noDirListing answers 404 for directories, as Django's static view does by default, so a
// development server does not list what production would not.
func noDirListing(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// mount serves h under prefix as a web server mounting the site there would: the prefix leaves
// the path and becomes the script name; a path outside the prefix is not the site's, and its 404
// is logged here since the application never sees it.
func mount(prefix string, h http.Handler, errorLog *log.Logger) http.Handler {
	outside := middleware.Logger(errorLog)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, fmt.Sprintf("404 page not found: the site is mounted at %s/ (ForceScriptName)", prefix), http.StatusNotFound)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := cutPathPrefix(r.URL.Path, prefix)
		if !ok {
			outside.ServeHTTP(w, r)
			return
		}
		u := *r.URL
		u.Path = rest
		u.RawPath = ""
		if raw, ok := cutPathPrefix(r.URL.RawPath, prefix); ok && r.URL.RawPath != "" {
			u.RawPath = raw
		}
		r2 := r.Clone(r.Context())
		r2.URL = &u
		h.ServeHTTP(w, gateway.WithScriptName(r2, prefix))
	})
}

// cutPathPrefix removes prefix from path at a segment boundary; the rest is at least "/".
func cutPathPrefix(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok || (rest != "" && rest[0] != '/') {
		return "", false
	}
	if rest == "" {
		rest = "/"
	}
	return rest, true
}
