package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/appgen/appgen/generator"
	"github.com/appgen/appgen/internal/upgrade"
	"github.com/appgen/appgen/templates"
	"github.com/urfave/cli/v2"
)

// secretSeedEnv makes the secret key reproducible, for golden tests and examples. It is
// deliberately left out of the help: a seeded key is public.
const secretSeedEnv = "APPGEN_SECRET_SEED"

func startprojectCommand() *cli.Command {
	return &cli.Command{
		Name:      "startproject",
		Usage:     "create a new Go web project",
		ArgsUsage: "NAME [DIRECTORY]",
		Description: "Creates the project NAME in DIRECTORY (default ./NAME): a module with a settings\n" +
			"package, an application object wrapped in a middleware chain, an example page, tests,\n" +
			"and the appgen runtime vendored under vendor/ (the module at appgen's own version), so\n" +
			"it builds offline. .appgen/ records what was generated, for `appgen upgrade`.\n\n" +
			"NAME must be a lower-case Go identifier that is not a keyword, a predeclared name\n" +
			"or a standard library package name (os, http, …). DIRECTORY is created if missing;\n" +
			"if it exists it must be empty or hold only a .git directory. Existing files are\n" +
			"never overwritten, and a failed or interrupted run leaves nothing behind.\n\n" +
			"Flags may come before or after NAME and DIRECTORY.\n\n" +
			"Examples:\n" +
			"   appgen startproject mysite\n" +
			"   appgen startproject mysite ~/src/mysite --module example.com/mysite\n" +
			"   appgen startproject --template ./mytemplate.zip --dry-run mysite",
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:  "module",
				Usage: "Go module path of the project (default: NAME)",
			},
			&cli.StringFlag{
				Name:      "template",
				Usage:     "render your own project template: a directory, a .zip or a .tar.gz file",
				TakesFile: true,
			},
			&cli.BoolFlag{
				Name:  "dry-run",
				Usage: "list every file that would be written (mode, size, path) and write nothing",
			},
		},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return &usageError{cmd: "startproject", err: err}
		},
		// startproject has no subcommands; urfave would otherwise offer "help" to completion.
		HideHelpCommand: true,
		Action:          startproject,
	}
}

func startproject(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) < 1 || len(args) > 2 {
		return usagef("startproject", "startproject takes NAME and an optional DIRECTORY; got %d arguments", len(args))
	}
	name := args[0]
	dir := name
	if len(args) == 2 {
		dir = args[1]
	}
	// Validate the name before reading a template, so the most common mistake gets its own
	// message whatever else is wrong.
	if err := generator.ValidateName(name); err != nil {
		return err
	}
	tmpl := templates.Project
	tmplSrc := upgrade.Template{Source: "default"}
	if p := c.String("template"); p != "" {
		if isURL(p) {
			return usagef("startproject", "--template %q: URLs are not supported; download the template and give its directory, .zip or .tar.gz file", p)
		}
		t, src, err := loadTemplate(p)
		if err != nil {
			return err
		}
		tmpl, tmplSrc = t, src
	}
	e := envFrom(c)
	opts := generator.Options{
		Name:          name,
		Module:        c.String("module"),
		Template:      tmpl,
		Runtime:       e.runtime,
		AppgenVersion: e.build.Version,
		// The built-in template renders gofmt-clean Go, as templates/embed_test.go checks:
		// formatting it again was a tenth of startproject's CPU time.
		Formatted: c.String("template") == "",
	}
	if seed, ok := os.LookupEnv(secretSeedEnv); ok {
		opts.Rand = generator.SeededReader(seed)
	}
	// Interrupting stops a long rendering as it stops writing: nothing is left behind.
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	files, data, err := generator.RenderContext(ctx, opts)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return context.Canceled
		}
		return err
	}
	rendered := files
	files, note, err := withDeployFiles(files, dir, e.build.Version)
	if err != nil {
		return err
	}
	files = withManifest(files, data, tmplSrc, deployOrigins(rendered, files))
	if err := generator.CheckTarget(dir, files); err != nil {
		return err
	}
	out := c.App.Writer
	if c.Bool("dry-run") {
		printDryRun(out, data, dir, files)
		printNote(out, note)
		return nil
	}
	if err := generator.Write(ctx, dir, files); err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return context.Canceled
		}
		return err
	}
	printCreated(out, data, dir, files, e.runtime != nil)
	printNote(out, note)
	return nil
}

// isURL reports whether a --template value is a URL rather than a path: a scheme before
// "://", or git's scp-like "user@host:path".
func isURL(s string) bool {
	if scheme, _, ok := strings.Cut(s, "://"); ok && scheme != "" && !strings.ContainsAny(scheme, "/\\") {
		return true
	}
	user, rest, ok := strings.Cut(s, "@")
	return ok && user != "" && !strings.Contains(user, "/") && strings.Contains(rest, ":")
}

func printNote(w io.Writer, note string) {
	if note != "" {
		fmt.Fprintf(w, "\n%s\n", note)
	}
}

func printDryRun(w io.Writer, data generator.Data, dir string, files []generator.File) {
	mask := fs.FileMode(umask())
	var total int
	fmt.Fprintf(w, "startproject %s (module %s) would write %d files into %s:\n", data.Name, data.Module, len(files), dir)
	for _, f := range files {
		total += len(f.Data)
		fmt.Fprintf(w, "  %v %8d  %s\n", f.Mode&^mask, len(f.Data), f.Path)
	}
	fmt.Fprintf(w, "%d bytes in all. Dry run: nothing was written.\n", total)
}

func printCreated(w io.Writer, data generator.Data, dir string, files []generator.File, vendored bool) {
	fmt.Fprintf(w, "Created project %s (module %s) in %s: %d files.\n", data.Name, data.Module, dir, len(files))
	if vendored {
		fmt.Fprintf(w, "The appgen runtime %s is vendored in %s, so the project builds offline.\n",
			data.RuntimeVersion, filepath.Join(dir, generator.VendorDir))
	}
	fmt.Fprintf(w, "\nNext:\n  cd %s\n  go run . runserver\n  go test ./...\n", shellQuote(dir))
}

// shellQuote makes the suggested cd command safe to paste when dir has spaces or quotes.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./~+:@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
