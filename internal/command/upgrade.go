package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/appgen/appgen/deploy"
	"github.com/appgen/appgen/generator"
	"github.com/appgen/appgen/internal/merge"
	"github.com/appgen/appgen/internal/upgrade"
	"github.com/appgen/appgen/templates"
	"github.com/urfave/cli/v2"
	"golang.org/x/mod/sumdb/dirhash"
)

func upgradeCommand() *cli.Command {
	return &cli.Command{
		Name:      "upgrade",
		Usage:     "bring a project up to this appgen: its template's changes and runtime, merged with yours",
		ArgsUsage: " ",
		Description: "Run anywhere in a project made by appgen startproject (it finds .appgen/manifest.json\n" +
			"above). The project's template is rendered again, with the options recorded in the\n" +
			"manifest, as this appgen has it, and compared file by file with what was generated\n" +
			"(.appgen/base.tar.gz) and with the file now. One line per file says what happens:\n" +
			"updated, merged, conflict, added, removed or kept. Conflicting lines get diff3 markers\n" +
			"(<<<<<<< ours, ||||||| base, =======, >>>>>>> theirs). vendor/, go.sum and go.mod's\n" +
			"require move to this appgen's runtime. Everything changes at once or not at all.\n" +
			"Exit status 1 lists the conflicts. docs/upgrade.md has the details.\n\n" +
			"Examples:\n" +
			"   appgen upgrade --dry-run\n" +
			"   appgen upgrade\n" +
			"   appgen upgrade --template ~/templates/site-v2",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "dry-run", Usage: "print what would happen and write nothing"},
			&cli.StringFlag{Name: "template", Usage: "the project's template (directory, .zip, .tar.gz) where it is now, for a project made with --template (default: where it was)", TakesFile: true},
		},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return &usageError{cmd: "upgrade", err: err}
		},
		HideHelpCommand: true,
		Action:          runUpgrade,
	}
}

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "show the unified diff appgen upgrade would apply",
		ArgsUsage: " ",
		Description: "Prints, for every file appgen upgrade would change, the unified diff from the file\n" +
			"now to what upgrade would write (conflict markers included), and one line for the\n" +
			"vendored runtime. Writes nothing.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "template", Usage: "as for upgrade", TakesFile: true},
		},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return &usageError{cmd: "diff", err: err}
		},
		HideHelpCommand: true,
		Action:          runDiff,
	}
}

// plan is an upgrade worked out in memory.
type plan struct {
	dir      string
	steps    []upgrade.Step
	writes   []generator.File
	removes  []string
	vendor   string // the line for vendor/ and go.sum, "" when they do not change
	manifest []generator.File
	from, to string // runtime versions
}

func makePlan(c *cli.Context, cmd string) (*plan, error) {
	if c.Args().Present() {
		return nil, usagef(cmd, "%s takes no arguments, got %q", cmd, c.Args().First())
	}
	e := envFrom(c)
	if e.runtime == nil {
		return nil, fmt.Errorf("%s: this appgen carries no runtime to upgrade to", cmd)
	}
	dir, err := upgrade.Find(".")
	if err != nil {
		return nil, err
	}
	if done, err := generator.Recover(dir); err != nil {
		return nil, err
	} else if done {
		fmt.Fprintf(c.App.ErrWriter, "appgen: an interrupted upgrade of %s was undone first\n", dir)
	}
	m, base, err := upgrade.Load(dir)
	if err != nil {
		return nil, err
	}
	tmplSrc := m.Template
	tmpl := templates.Project
	if p := c.String("template"); p != "" || m.Template.Source != "default" {
		if p == "" {
			p = m.Template.Path
		}
		if tmpl, tmplSrc, err = loadTemplate(p); err != nil {
			return nil, fmt.Errorf("%s: the project's template: %w (give --template where it is now)", cmd, err)
		}
	}
	files, data, err := generator.Render(generator.Options{
		Name: m.Options.Name, Module: m.Options.Module, SecretKey: m.Options.SecretKey,
		Template: tmpl, Runtime: e.runtime, AppgenVersion: e.build.Version,
	})
	if err != nil {
		return nil, err
	}
	origins := map[string]string{}
	if slices.ContainsFunc(m.Files, func(f upgrade.File) bool { return f.Origin == "deploy" }) {
		extra, err := projectDeployFiles(dir, e.build.Version)
		if err != nil {
			return nil, fmt.Errorf("%s: the server configurations startproject wrote: %w", cmd, err)
		}
		for _, f := range extra {
			if slices.ContainsFunc(files, func(g generator.File) bool { return g.Path == f.Path }) {
				return nil, fmt.Errorf("%s: the template's %s is also a file appgen config writes for the project", cmd, f.Path)
			}
			files = append(files, f)
			origins[f.Path] = "deploy"
		}
	}
	configs := map[string][]string{}
	for _, f := range m.Files {
		if f.Origin != "config" {
			continue
		}
		text, err := renderConfig(e, dir, f.Config)
		if err != nil {
			return nil, fmt.Errorf("%s: %s (appgen config %s): %w", cmd, f.Path, strings.Join(f.Config, " "), err)
		}
		mode := fs.FileMode(0o666)
		if bytes.HasPrefix(text, []byte("#!")) {
			mode = 0o777
		}
		files = append(files, generator.File{Path: f.Path, Mode: mode, Data: text})
		origins[f.Path], configs[f.Path] = "config", f.Config
	}
	steps, err := upgrade.Plan(base, readOurs(dir), files)
	if err != nil {
		return nil, err
	}
	p := &plan{dir: dir, steps: steps, from: m.Runtime.Version, to: data.RuntimeVersion}
	var generated []generator.File // what the new manifest records: theirs
	for _, s := range steps {
		if s.Write {
			mode := fs.FileMode(0o666)
			if s.Executable {
				mode = 0o777
			}
			if info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(s.Path))); err == nil {
				mode = info.Mode().Perm() // keep the user's permissions on their file
			}
			p.writes = append(p.writes, generator.File{Path: s.Path, Mode: mode, Data: s.Data})
		}
		if s.Remove {
			p.removes = append(p.removes, s.Path)
		}
		if s.New != nil {
			mode := fs.FileMode(0o666)
			if s.Executable {
				mode = 0o777
			}
			generated = append(generated, generator.File{Path: s.Path, Mode: mode, Data: s.New})
		}
	}
	vw, vr, err := vendorChanges(dir, p, *e.runtime)
	if err != nil {
		return nil, err
	}
	if len(vw)+len(vr) > 0 {
		p.vendor = fmt.Sprintf("runtime %s → %s: %d files written, %d removed", m.Runtime.Version, data.RuntimeVersion, len(vw), len(vr))
		if m.Runtime.Version == data.RuntimeVersion {
			p.vendor = fmt.Sprintf("runtime %s: %d files written, %d removed (restored to the module's)", data.RuntimeVersion, len(vw), len(vr))
		}
	}
	p.writes = append(p.writes, vw...)
	p.removes = append(p.removes, vr...)
	if len(p.writes)+len(p.removes) > 0 || m.AppgenVersion != e.build.Version || tmplSrc != m.Template {
		nm := &upgrade.Manifest{AppgenVersion: e.build.Version, Template: tmplSrc, Options: m.Options,
			Runtime: upgrade.Runtime{Module: generator.RuntimeModule, Version: data.RuntimeVersion}}
		p.manifest = upgrade.Record(nm, generated, origins, configs)
	}
	return p, nil
}

// projectDeployFiles renders again what startproject's withDeployFiles wrote, from the
// project's deployment settings as they are now (settings/deploy.go), as `appgen config`
// run in the project would: the configurations follow the settings the user changed.
func projectDeployFiles(dir, version string) ([]generator.File, error) {
	p, err := deploy.ReadProject(dir)
	if errors.Is(err, deploy.ErrNotProject) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p.Dir = dir
	extra, err := deploy.ProjectFiles(p, version)
	var fe *deploy.FieldError
	if errors.As(err, &fe) && fe.Field == "Dir" {
		// startproject could not write them either (a path a config cannot carry).
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	files := make([]generator.File, 0, len(extra))
	for _, f := range extra {
		files = append(files, generator.File{Path: f.Path, Mode: f.Mode, Data: f.Data})
	}
	return files, nil
}

// deployOrigins marks the files withDeployFiles added.
func deployOrigins(before, after []generator.File) map[string]string {
	had := map[string]bool{}
	for _, f := range before {
		had[f.Path] = true
	}
	m := map[string]string{}
	for _, f := range after {
		if !had[f.Path] {
			m[f.Path] = "deploy"
		}
	}
	return m
}

func readOurs(dir string) upgrade.Ours {
	return func(p string) ([]byte, bool, error) {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("upgrade: %w", err)
		}
		return data, true, nil
	}
}

// vendorChanges returns what moves vendor/ and go.sum to rt for the project as the plan
// leaves it: the runtime's packages its Go files import, as go mod vendor lays them out.
// Other modules the user vendored keep their blocks in vendor/modules.txt, their folders
// and their go.sum lines.
func vendorChanges(dir string, p *plan, rt generator.Runtime) ([]generator.File, []string, error) {
	planned := map[string]*generator.File{}
	for i := range p.writes {
		planned[p.writes[i].Path] = &p.writes[i]
	}
	removed := map[string]bool{}
	for _, r := range p.removes {
		removed[r] = true
	}
	var goFiles []generator.File
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (d.Name() == "vendor" && rel == "vendor" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || removed[rel] {
			return nil
		}
		if f, ok := planned[rel]; ok {
			goFiles = append(goFiles, *f)
			return nil
		}
		data, err := os.ReadFile(path)
		goFiles = append(goFiles, generator.File{Path: rel, Data: data})
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("upgrade: reading the project's Go files: %w", err)
	}
	for _, f := range planned {
		if strings.HasSuffix(f.Path, ".go") && !slices.ContainsFunc(goFiles, func(g generator.File) bool { return g.Path == f.Path }) {
			goFiles = append(goFiles, *f)
		}
	}
	want, err := generator.Vendor(rt, goFiles)
	if err != nil {
		return nil, nil, err
	}
	wantByPath := map[string][]byte{}
	for _, f := range want {
		wantByPath[f.Path] = f.Data
	}
	rtDir := generator.VendorDir + "/" + generator.RuntimeModule + "/"
	// Other modules' parts of modules.txt and go.sum stay as they are.
	if old, err := os.ReadFile(filepath.Join(dir, "vendor", "modules.txt")); err == nil {
		wantByPath["vendor/modules.txt"] = mergeModulesTxt(old, wantByPath["vendor/modules.txt"])
	}
	if old, err := os.ReadFile(filepath.Join(dir, "go.sum")); err == nil {
		wantByPath["go.sum"] = mergeGoSum(old, wantByPath["go.sum"])
	}
	var writes []generator.File
	var removes []string
	for path, data := range wantByPath {
		have, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)))
		if err != nil || !bytes.Equal(have, data) {
			writes = append(writes, generator.File{Path: path, Mode: 0o666, Data: data})
		}
	}
	filepath.WalkDir(filepath.Join(dir, filepath.FromSlash(rtDir)), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		if rel = filepath.ToSlash(rel); wantByPath[rel] == nil {
			removes = append(removes, rel)
		}
		return nil
	})
	slices.SortFunc(writes, func(a, b generator.File) int { return strings.Compare(a.Path, b.Path) })
	slices.Sort(removes)
	return writes, removes, nil
}

// mergeModulesTxt replaces the runtime's block of vendor/modules.txt and keeps the others,
// in module path order as go mod vendor writes them.
func mergeModulesTxt(old, runtimeBlock []byte) []byte {
	blocks := map[string]string{}
	var cur string
	for _, line := range strings.SplitAfter(string(old), "\n") {
		if strings.HasPrefix(line, "# ") {
			cur = strings.Fields(line)[1]
		}
		if cur != "" && cur != generator.RuntimeModule {
			blocks[cur] += line
		}
	}
	if len(runtimeBlock) > 0 {
		blocks[generator.RuntimeModule] = string(runtimeBlock)
	}
	keys := make([]string, 0, len(blocks))
	for k := range blocks {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(blocks[k])
	}
	return []byte(b.String())
}

// mergeGoSum replaces the runtime's lines of go.sum and keeps the others, sorted.
func mergeGoSum(old, runtimeLines []byte) []byte {
	var lines []string
	for _, l := range strings.Split(string(old), "\n") {
		if l != "" && !strings.HasPrefix(l, generator.RuntimeModule+" ") {
			lines = append(lines, l)
		}
	}
	for _, l := range strings.Split(string(runtimeLines), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	slices.Sort(lines)
	return []byte(strings.Join(lines, "\n") + "\n")
}

// renderConfig runs `appgen config ARGS --project DIR` in this process and returns what it
// prints.
func renderConfig(e *env, dir string, args []string) ([]byte, error) {
	var out, errOut bytes.Buffer
	app := newApp(e, &out, &errOut)
	full := append(append([]string{"appgen", "config"}, args...), "--project", dir)
	if err := app.RunContext(context.Background(), full); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func runUpgrade(c *cli.Context) error {
	p, err := makePlan(c, "upgrade")
	if err != nil {
		return err
	}
	w := c.App.Writer
	var conflicts []string
	for _, s := range p.steps {
		if s.Action == upgrade.Unchanged {
			continue
		}
		line := fmt.Sprintf("%-9s %s", s.Action, s.Path)
		if s.Note != "" {
			line += " (" + s.Note + ")"
		}
		fmt.Fprintln(w, line)
		if s.Action == upgrade.Conflict {
			conflicts = append(conflicts, s.Path)
		}
	}
	if p.vendor != "" {
		fmt.Fprintf(w, "%-9s vendor/, go.sum (%s)\n", upgrade.Updated, p.vendor)
	}
	if len(p.writes)+len(p.removes) == 0 {
		fmt.Fprintln(w, "Nothing to upgrade: the project is up to date with appgen "+envFrom(c).build.Version+".")
	}
	if c.Bool("dry-run") {
		fmt.Fprintln(w, "Dry run: nothing was written.")
	} else if len(p.writes)+len(p.removes)+len(p.manifest) > 0 {
		ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := generator.Apply(ctx, p.dir, append(p.writes, p.manifest...), p.removes); err != nil {
			if ctx.Err() != nil {
				return context.Canceled
			}
			return err
		}
	}
	if len(conflicts) > 0 {
		return fmt.Errorf("upgrade: %d conflict%s to resolve by hand: %s", len(conflicts), pluralS(len(conflicts)), strings.Join(conflicts, ", "))
	}
	return nil
}

func pluralS(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func runDiff(c *cli.Context) error {
	p, err := makePlan(c, "diff")
	if err != nil {
		return err
	}
	w := c.App.Writer
	for _, s := range p.steps {
		if !s.Write && !s.Remove {
			continue
		}
		old, _, err := readOurs(p.dir)(s.Path)
		if err != nil {
			return err
		}
		var now []byte
		to := "b/" + s.Path
		if s.Write {
			now = s.Data
		} else {
			to = "/dev/null"
		}
		from := "a/" + s.Path
		if old == nil && s.Write {
			from = "/dev/null"
		}
		if merge.IsBinary(old) || merge.IsBinary(now) {
			fmt.Fprintf(w, "Binary files %s and %s differ\n", from, to)
			continue
		}
		io.WriteString(w, merge.Unified(from, to, old, now))
	}
	if p.vendor != "" {
		fmt.Fprintf(w, "vendor/, go.sum: %s (go mod vendor's tree; not shown)\n", p.vendor)
	}
	return nil
}

// loadTemplate reads a --template and says where it came from for the manifest.
func loadTemplate(p string) (fs.FS, upgrade.Template, error) {
	t, err := generator.LoadTemplate(p, generator.Limits{})
	if err != nil {
		return nil, upgrade.Template{}, err
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, upgrade.Template{}, fmt.Errorf("command: --template %s: %w", p, err)
	}
	src := upgrade.Template{Source: "archive", Path: abs}
	if info, err := os.Stat(abs); err == nil && info.IsDir() {
		src.Source = "directory"
	}
	if src.Hash, err = templateHash(t); err != nil {
		return nil, upgrade.Template{}, err
	}
	return t, src, nil
}

// templateHash is the go command's h1: hash of a template's files, whatever held them.
func templateHash(t fs.FS) (string, error) {
	var names []string
	err := fs.WalkDir(t, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("command: hashing the template: %w", err)
	}
	return dirhash.Hash1(names, func(name string) (io.ReadCloser, error) { return t.Open(name) })
}

// withManifest adds .appgen/ to a new project's files: data is what the templates saw,
// tmpl where the template came from, deployFiles the paths withDeployFiles added.
func withManifest(files []generator.File, data generator.Data, tmpl upgrade.Template, origins map[string]string) []generator.File {
	m := &upgrade.Manifest{
		AppgenVersion: data.AppgenVersion,
		Template:      tmpl,
		Options:       upgrade.Options{Name: data.Name, Module: data.Module, SecretKey: data.SecretKey},
		Runtime:       upgrade.Runtime{Module: generator.RuntimeModule, Version: data.RuntimeVersion},
	}
	out := append(slices.Clone(files), upgrade.Record(m, files, origins, nil)...)
	slices.SortFunc(out, func(a, b generator.File) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// recordConfig adds a file `appgen config -o` wrote inside a project to its manifest, with
// the arguments that made it, so appgen upgrade renders it again. A config holding the AJP
// secret from --secret is not recorded: the manifest would hold the secret.
func recordConfig(c *cli.Context, target, out string, text []byte) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return nil
	}
	dir, err := upgrade.Find(filepath.Dir(abs))
	if errors.Is(err, upgrade.ErrNoProject) {
		return nil
	}
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(dir, abs)
	if err != nil || generator.CheckPath(filepath.ToSlash(rel)) != nil || upgrade.Managed(filepath.ToSlash(rel)) {
		return nil
	}
	rel = filepath.ToSlash(rel)
	if c.IsSet("secret") {
		fmt.Fprintf(c.App.ErrWriter, "appgen: %s is not recorded in %s for appgen upgrade: it holds the --secret value\n", rel, upgrade.ManifestPath)
		return nil
	}
	m, base, err := upgrade.Load(dir)
	if err != nil {
		return err
	}
	args := append([]string{target}, configArgs(c)...)
	var files []generator.File
	origins := map[string]string{}
	configs := map[string][]string{}
	for _, f := range m.Files {
		if f.Path == rel {
			continue
		}
		mode := fs.FileMode(0o666)
		if f.Executable {
			mode = 0o777
		}
		files = append(files, generator.File{Path: f.Path, Mode: mode, Data: base[f.Path]})
		origins[f.Path], configs[f.Path] = f.Origin, f.Config
	}
	mode := fs.FileMode(0o666)
	if bytes.HasPrefix(text, []byte("#!")) {
		mode = 0o777
	}
	files = append(files, generator.File{Path: rel, Mode: mode, Data: text})
	origins[rel], configs[rel] = "config", args
	return generator.Apply(c.Context, dir, upgrade.Record(m, files, origins, configs), nil)
}

// configArgs are the flags of an appgen config run as given, without those that say where
// the output goes (-o, --check) or which project (upgrade passes --project).
func configArgs(c *cli.Context) []string {
	var args []string
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if !c.IsSet(name) || name == "output" || name == "check" || name == "project" || name == "secret" {
			continue
		}
		switch f.(type) {
		case *cli.StringSliceFlag:
			for _, v := range c.StringSlice(name) {
				args = append(args, "--"+name, v)
			}
		case *cli.BoolFlag:
			args = append(args, "--"+name+"="+strconv.FormatBool(c.Bool(name)))
		case *cli.IntFlag:
			args = append(args, "--"+name, strconv.Itoa(c.Int(name)))
		default:
			args = append(args, "--"+name, c.String(name))
		}
	}
	return args
}
