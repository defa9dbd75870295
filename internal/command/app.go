package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/appgen/appgen/generator"
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
		upgradeCommand(),
		diffCommand(),
		completionCommand(),
	}
}

// env is what commands need beyond their flags; it rides in App.Metadata.
type env struct {
	build   Build
	runtime *generator.Runtime // the runtime module projects require and vendor; nil if absent
	suggest string             // the command a mistyped word was closest to, for the usage error
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
// runtime holds the runtime module's files rooted at its go.mod (main passes
// appgenruntime.Files); nil means projects are generated without the vendored runtime.
func Execute(b Build, runtime fs.FS, args []string, stdout, stderr io.Writer) int {
	e := &env{build: b}
	e.build.Version = resolveVersion(b.Version)
	if runtime != nil {
		e.runtime = &generator.Runtime{Files: runtime, Version: runtimeVersion(e.build.Version, buildInfo())}
	}
	app := newApp(e, stdout, stderr)
	args = helpAsFlag(args)
	args, e.suggest = walkArgs(app.Commands, args)
	err := app.RunContext(context.Background(), args)
	return report(err, e.suggest, stderr)
}

// helpAsFlag turns "appgen help config nginx" into "appgen config nginx --help": urfave's
// help command looks at its first argument only, and would show config's help, not nginx's.
func helpAsFlag(args []string) []string {
	if len(args) > 2 && (args[1] == "help" || args[1] == "h") && !slices.Contains(args, completionFlag) {
		return append(append([]string{args[0]}, args[2:]...), "--help")
	}
	return args
}

// completionFlag is urfave's request for completion candidates; it must stay last.
const completionFlag = "--generate-bash-completion"

// walkArgs follows the command names in args (config, then nginx) and returns args with the
// flags given after the last command's arguments moved before them, so that
// "appgen startproject mysite --module example.com/mysite" works as Django's
// "django-admin startproject mysite --template …" does: urfave, like Go's flag package, stops
// at the first argument. A "--" still ends the flags. It also returns, for a word that names
// no command where one is expected, the nearest command's name ("ngnix" → "nginx"), or "".
func walkArgs(cmds []*cli.Command, args []string) ([]string, string) {
	if len(args) < 2 || args[len(args)-1] == completionFlag {
		return args, ""
	}
	out := []string{args[0]}
	rest := args[1:]
	var cmd *cli.Command
	suggest := ""
	for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		next := findCommand(cmds, rest[0])
		if next == nil {
			if len(cmds) > 0 {
				suggest = nearest(rest[0], commandNames(cmds))
			}
			break
		}
		cmd, cmds = next, next.Subcommands
		out, rest = append(out, rest[0]), rest[1:]
	}
	if cmd == nil {
		return args, suggest
	}
	var flags, positional, afterDash []string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch {
		case a == "--":
			afterDash = rest[i:]
			i = len(rest)
		case strings.HasPrefix(a, "-") && a != "-":
			flags = append(flags, a)
			if !strings.Contains(a, "=") && takesValue(cmd.Flags, a) && i+1 < len(rest) {
				flags = append(flags, rest[i+1])
				i++
			}
		default:
			positional = append(positional, a)
		}
	}
	if len(afterDash) > 0 && len(positional) > 0 {
		// "--" goes first, so that no positional argument is taken for a flag.
		return append(append(append(append(out, flags...), "--"), positional...), afterDash[1:]...), suggest
	}
	return append(append(append(out, flags...), positional...), afterDash...), suggest
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

func commandNames(cmds []*cli.Command) []string {
	var names []string
	for _, c := range cmds {
		names = append(names, c.Names()...)
	}
	return names
}

// takesValue reports whether the flag arg (as written: -o, --module) is followed by its
// value. An unknown flag is left for urfave to report.
func takesValue(flags []cli.Flag, arg string) bool {
	name := strings.TrimLeft(arg, "-")
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			if _, ok := f.(*cli.BoolFlag); ok {
				return false
			}
			return true
		}
	}
	return false
}

// nearest returns the candidate closest to word, if it is close enough to be what the user
// meant (an edit distance of at most a third of its length, or a prefix); else "".
func nearest(word string, candidates []string) string {
	best, bestDist := "", len(word)/3+1
	for _, c := range candidates {
		if len(word) >= 3 && strings.HasPrefix(c, word) {
			return c
		}
		if d := editDistance(word, c); d < bestDist || d == bestDist && best == "" && d <= 2 {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Damerau-Levenshtein distance with adjacent transpositions ("ngnix").
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// flagErrorRE matches the flag package's error for a value that does not parse. It is
// compiled when an error needs it, not at start-up, which every command pays.
var flagErrorRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^invalid value "(.*)" for flag -{1,2}(\S+): (.*)$`)
})

// explainFlagError rewrites `invalid value "abc" for flag -port: parse error` as
// `--port "abc": want a whole number`, naming the flag as users write it and what it takes.
func explainFlagError(cmds []*cli.Command, path string, err error) error {
	m := flagErrorRE().FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	var flags []cli.Flag
	for _, name := range strings.Fields(path) {
		c := findCommand(cmds, name)
		if c == nil {
			break
		}
		flags, cmds = c.Flags, c.Subcommands
	}
	want := "a valid value (" + m[3] + ")"
	for _, f := range flags {
		if !slices.Contains(f.Names(), m[2]) {
			continue
		}
		switch f.(type) {
		case *cli.IntFlag, *cli.Int64Flag, *cli.IntSliceFlag, *cli.Int64SliceFlag:
			want = "a whole number"
		case *cli.UintFlag, *cli.Uint64Flag:
			want = "a whole number, 0 or more"
		case *cli.Float64Flag, *cli.Float64SliceFlag:
			want = "a number"
		case *cli.DurationFlag:
			want = "a duration such as 30s or 5m"
		case *cli.BoolFlag:
			want = "true or false"
		}
	}
	dashes := "--"
	if len(m[2]) == 1 {
		dashes = "-"
	}
	return fmt.Errorf("%s%s %q: want %s", dashes, m[2], m[1], want)
}

func report(err error, suggest string, stderr io.Writer) int {
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
		fmt.Fprintf(stderr, "appgen: %v\n", explainFlagError(commands(), ue.cmd, ue.err))
		if suggest != "" {
			fmt.Fprintf(stderr, "Did you mean %s?\n", suggest)
		}
		fmt.Fprintf(stderr, "Run '%s' for usage.\n", help)
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
