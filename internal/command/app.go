package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"
)

// Exit statuses, decided only in Execute.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// Build describes the appgen binary, as -ldflags -X stamps it into main.
type Build struct {
	Version string // "" means the module version from the build info, else "devel"
	Commit  string // "" means not shown
	Date    string // "" means not shown
}

// commands are the subcommands, in the order help lists them. Each constructor takes no
// arguments and finds what it needs through the *cli.Context (see envFrom).
func commands() []*cli.Command {
	return []*cli.Command{
		startprojectCommand(),
		configCommand(),
		completionCommand(),
	}
}

// env is what commands need beyond their flags; it rides in App.Metadata.
type env struct {
	build   Build
	runtime fs.FS // rooted at the runtime packages (gateway/, manage/, …); nil if absent
}

const envKey = "appgen.env"

func envFrom(c *cli.Context) *env {
	return c.App.Metadata[envKey].(*env)
}

// usageError is a mistake in how appgen was called; it exits 2 and points at the help.
type usageError struct {
	cmd string // the command whose help to suggest; "" for appgen itself
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// errHelpShown ends a run that printed the help instead of doing anything: exit status 2,
// and no further message, since the help says it all.
var errHelpShown = errors.New("help shown")

func usagef(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, err: fmt.Errorf(format, args...)}
}

// Execute runs appgen with args (args[0] is the program name) and returns the exit status.
// root holds the runtime sources under "runtime/" (main embeds them); nil means projects are
// generated without the runtime bundle.
func Execute(b Build, root fs.FS, args []string, stdout, stderr io.Writer) int {
	e := &env{build: b}
	e.build.Version = resolveVersion(b.Version)
	if root != nil {
		sub, err := fs.Sub(root, "runtime")
		if err != nil {
			fmt.Fprintf(stderr, "appgen: runtime sources: %v\n", err)
			return exitError
		}
		e.runtime = sub
	}
	app := newApp(e, stdout, stderr)
	err := app.RunContext(context.Background(), args)
	return report(err, stderr)
}

func report(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errHelpShown) {
		return exitUsage
	}
	var ue *usageError
	if errors.As(err, &ue) {
		help := "appgen help"
		if ue.cmd != "" {
			help += " " + ue.cmd
		}
		fmt.Fprintf(stderr, "appgen: %v\nRun '%s' for usage.\n", ue.err, help)
		return exitUsage
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "appgen: interrupted; nothing was written\n")
		return exitInterrupted
	}
	fmt.Fprintf(stderr, "appgen: %v\n", err)
	return exitError
}

func newApp(e *env, stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:  "appgen",
		Usage: "start Go web projects and deploy them behind FastCGI, SCGI or AJP",
		Description: "appgen does for Go web projects what Django's startproject and deployment guides do for\n" +
			"Python: it writes a complete, runnable project on a bundled runtime, and server\n" +
			"configurations for Apache, nginx and lighttpd.\n\n" +
			"Start with: appgen startproject mysite",
		Version:              e.build.Version,
		Commands:             commands(),
		EnableBashCompletion: true,
		HideHelpCommand:      false,
		Writer:               stdout,
		ErrWriter:            stderr,
		Metadata:             map[string]any{envKey: e},
		// Errors are reported by Execute; urfave must neither print nor exit.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return &usageError{err: err}
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usagef("", "unknown command %q", c.Args().First())
			}
			if err := cli.ShowAppHelp(c); err != nil {
				return err
			}
			return errHelpShown
		},
	}
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Fprintf(c.App.Writer, "appgen version %s\n", versionLine(envFrom(c).build))
	}
	return app
}

func versionLine(b Build) string {
	var extra []string
	if b.Commit != "" {
		extra = append(extra, "commit "+b.Commit)
	}
	if b.Date != "" {
		extra = append(extra, "built "+b.Date)
	}
	if len(extra) == 0 {
		return b.Version
	}
	return b.Version + " (" + strings.Join(extra, ", ") + ")"
}

// resolveVersion prefers the -ldflags -X version (release builds), then the module
// version `go install …@v1.2.3` records, and says "devel" for a build from a checkout.
func resolveVersion(stamped string) string {
	if stamped != "" {
		return stamped
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}
