package manage

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Site is what a project hands to Main: its application object and the settings the commands
// use. A project's main.go fills it from its settings package.
type Site struct {
	// Name is the project's name, used in usage text and messages.
	// Default "": the base name of the running program.
	Name string
	// Handler is the application object every command serves. Required.
	Handler http.Handler
	// Profile is the name of the settings profile in use (APPGEN_SETTINGS), shown by runserver and
	// help. Default "": not shown.
	Profile string
	// Check returns every problem with the settings, for check and for the warnings runserver
	// prints when it starts; runfcgi refuses to serve with any unless Deploy.Debug is on.
	// Default nil: no checks, so every check passes.
	Check func() []error
	// Deploy is what check --deploy and runfcgi judge a public site by (Debug, the secret key,
	// the allowed hosts); runserver checks static files' Host against its AllowedHosts.
	// Default nil: check --deploy fails saying it cannot judge the site, runfcgi warns that
	// nothing is checked, and runserver serves static files to loopback Host names only.
	Deploy *Deploy
	// ForceScriptName, when non-nil, is the script name (mount prefix) of every request, as
	// Django's FORCE_SCRIPT_NAME: runserver strips it from paths and answers 404 outside it, and
	// runfcgi uses it instead of what the web server says. Default nil: no forced script name.
	ForceScriptName *string
	// ServeStatic makes runserver serve the files under StaticRoot at StaticURL, for development.
	// Default false: static files are the web server's job.
	ServeStatic bool
	// StaticURL is the URL path prefix of static files, with a trailing slash ("/static/").
	// Default "": runserver serves no static files.
	StaticURL string
	// StaticRoot is the directory of static files, relative to the working directory unless
	// absolute. Default "": runserver serves no static files.
	StaticRoot string
	// Protocol, Host, Port and Socket are the project's deployment defaults (settings/deploy.go)
	// for runfcgi: see runfcgi.Defaults. Their zero values leave runfcgi on its own defaults.
	Protocol string
	Host     string
	Port     int
	Socket   string
	// Stdout receives usage and progress. Default nil: os.Stdout.
	Stdout io.Writer
	// Stderr receives errors, warnings and the HTTP server's log. Default nil: os.Stderr.
	Stderr io.Writer
}

// Exit statuses of Main.
const (
	ExitOK    = 0 // the command did its work
	ExitError = 1 // the command failed, or check found problems
	ExitUsage = 2 // the command line was wrong
)

// Main runs the command that args name (the arguments after the program name, os.Args[1:])
// for site, and returns the process exit status: ExitOK, ExitError or ExitUsage. With no
// arguments it prints the usage, as manage.py does.
func Main(args []string, site Site) int {
	m := newCommand(site)
	if site.Handler == nil {
		m.errorf("manage: Site.Handler is nil; main.go must pass the application object")
		return ExitError
	}
	if len(args) == 0 {
		fmt.Fprint(m.stdout, m.usage())
		return ExitOK
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		return m.help(rest)
	case "runserver":
		return m.runserver(rest)
	case "check":
		return m.check(rest)
	case "runfcgi":
		return m.runfcgi(rest)
	}
	m.errorf("unknown command %q", name)
	fmt.Fprint(m.stderr, m.usage())
	return ExitUsage
}

// command carries what every subcommand needs. Its stderr is locked because the HTTP server and
// handlers log on their own goroutines while Main writes progress.
type command struct {
	site   Site
	name   string
	stdout io.Writer
	stderr io.Writer
}

func newCommand(site Site) *command {
	m := &command{site: site, name: site.Name, stdout: site.Stdout, stderr: site.Stderr}
	if m.name == "" {
		m.name = filepath.Base(os.Args[0])
	}
	if m.stdout == nil {
		m.stdout = os.Stdout
	}
	if m.stderr == nil {
		m.stderr = os.Stderr
	}
	m.stderr = &lockedWriter{w: m.stderr}
	return m
}

// errorf prints one line, prefixed with the program name, as a command's error.
func (m *command) errorf(format string, args ...any) {
	fmt.Fprintf(m.stderr, "%s: %s\n", m.name, fmt.Sprintf(format, args...))
}

func (m *command) usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s COMMAND [ARGUMENTS]\n\nCommands:\n", m.name)
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-45s %s\n", c.name+" "+c.args, c.summary)
	}
	fmt.Fprintf(&b, "\nAPPGEN_SETTINGS selects the settings profile")
	if m.site.Profile != "" {
		fmt.Fprintf(&b, " (now %q)", m.site.Profile)
	}
	fmt.Fprintf(&b, ".\nRun %q for a command's details.\n", m.name+" help COMMAND")
	return b.String()
}

type commandDoc struct{ name, args, summary, details string }

var commands = []commandDoc{
	{"runserver", "[--noreload] [--admin ADDR] [ADDR]", "serve the site over HTTP for development", `ADDR is PORT or HOST:PORT (default 127.0.0.1:8000; "0" as the host means 0.0.0.0,
and port 0 picks a free port). SIGINT (Ctrl-C) or SIGTERM stops the server gracefully: it lets
the requests in flight finish; a second signal stops it at once. With the development
settings (Debug on) it also serves the static files at StaticURL, only from inside
StaticRoot (a symbolic link out of it is not followed) and only to the allowed hosts. Not for
production: put the site behind a web server with runfcgi.

It reloads after a change, as Django's autoreloader: it watches the module's Go sources
(tests aside), go.mod, go.sum and every file under a directory named templates, once a
second; on a change it rebuilds the program with the go command, starts the new build on
the same listening socket (connections wait, none is refused) and lets the old one finish
its requests. A build that fails is shown, and the previous build goes on serving.
--noreload serves in this process without watching; so does a binary run where no go.mod
or go command is found, saying why.

--admin ADDR (with --noreload) opens the HTTP listener runfcgi's admin= opens, for probes
and scrapers: /healthz, /readyz (503 from the first stop signal, while the requests in
flight finish) and /metrics. Default: none.
`},
	{"runfcgi", "[KEY=VALUE ...]", "serve the site over FastCGI, SCGI or AJP", `The options are Django's runfcgi options, with the defaults from settings/deploy.go;
"runfcgi help" lists them.
`},
	{"check", "[--deploy]", "check the settings and print every problem", `Prints every problem the settings profile has and exits with status 1 if there is one,
or prints "System check identified no issues." Run it with the profile a deployment uses:
APPGEN_SETTINGS=production.

--deploy also checks what a public site needs, as Django's check --deploy: Debug off; a
secret key that is set, is not the one generated into the source (settings/key.go), and is
strong (at least 50 characters, 10 of them different, not a shorter string repeated); allowed
hosts that are set and are not "*". runfcgi runs the same checks before it serves a profile
with Debug off, and refuses to start on any but "*" (which it warns about).
`},
	{"help", "[COMMAND]", "print this help, or a command's", ""},
}

func (m *command) help(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(m.stdout, m.usage())
		return ExitOK
	}
	if len(args) > 1 {
		m.errorf("help: too many arguments %q; want at most one command name", args)
		return ExitUsage
	}
	if args[0] == "runfcgi" {
		return m.runfcgi([]string{"help"})
	}
	for _, c := range commands {
		if c.name == args[0] {
			fmt.Fprintf(m.stdout, "Usage: %s\n\n%s%s.\n", strings.TrimSpace(m.name+" "+c.name+" "+c.args),
				strings.ToUpper(c.summary[:1]), c.summary[1:])
			if c.details != "" {
				fmt.Fprintf(m.stdout, "\n%s", c.details)
			}
			return ExitOK
		}
	}
	m.errorf("help: unknown command %q", args[0])
	fmt.Fprint(m.stderr, m.usage())
	return ExitUsage
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
