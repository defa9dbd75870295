package generator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/format"
	"io"
	"io/fs"
	"path"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"text/template/parse"
	"time"
)

// GoVersion is the go directive of a generated project and of the runtime bundle: the
// oldest Go the runtime supports, not the Go that built appgen.
const GoVersion = "1.24"

// RuntimeModule is the module path of the bundled runtime, the same path its packages
// have inside appgen, so runtime sources are copied without rewriting imports.
const RuntimeModule = "github.com/appgen/appgen/runtime"

// DevelRuntimeVersion is the runtime version of a build that knows nothing better: not a
// release, and no version control information (see docs/upgrade.md).
const DevelRuntimeVersion = "v0.0.0-devel"

// Data is what templates see. Its fields are the names templates use: {{.Name}}.
type Data struct {
	Name           string // the project name, validated by ValidateName
	Module         string // the project's module path
	SecretKey      string // a fresh random secret key (see Options.Rand)
	AppgenVersion  string // the appgen version that rendered the project
	GoVersion      string // GoVersion
	RuntimeModule  string // RuntimeModule
	RuntimeVersion string // the runtime version the project requires (Options.Runtime.Version)
}

// Options says what to render.
type Options struct {
	// Name is the project name; required, checked with ValidateName.
	Name string
	// Module is the project's module path, checked with ValidateModule. Empty means Name.
	Module string
	// Template is the project template; required.
	Template fs.FS
	// Runtime is the runtime module the project requires and vendors (see Vendor). Nil
	// means no vendor tree is added and the project requires DevelRuntimeVersion.
	Runtime *Runtime
	// AppgenVersion is given to templates as .AppgenVersion. Empty means "devel".
	AppgenVersion string
	// SecretKey is the project's secret key as a project already has it: appgen upgrade
	// renders the template again with the recorded key. Empty means a fresh key from Rand.
	SecretKey string
	// Rand is the source of the secret key. Nil means crypto/rand; tests pass
	// SeededReader for reproducible output.
	Rand io.Reader
	// Limits bound the rendering's output size and time; the zero value means the
	// defaults RenderLimits documents.
	Limits RenderLimits
	// Formatted says that the template's Go renders gofmt-clean whatever the data, so its
	// .go files need no formatting: true only for the built-in template, whose test renders
	// it with short and long names and module paths and checks exactly that. False (the
	// zero value) means every rendered .go file outside testdata is formatted, as gofmt
	// would, and a file that does not parse is an error.
	Formatted bool
}

// File is one rendered file.
type File struct {
	// Path is slash-separated and relative to the project directory.
	Path string
	// Mode is 0o666 or 0o777: the permission before the umask is applied.
	Mode fs.FileMode
	// Data is the file's content.
	Data []byte
}

// Render is RenderContext with a context that is never cancelled; opts.Limits still
// bounds the rendering's time.
func Render(opts Options) ([]File, Data, error) {
	return RenderContext(context.Background(), opts)
}

// RenderContext validates opts, renders the template and adds the vendored runtime. It returns
// the files sorted by path and the data the templates saw. It fails on the first invalid
// option, template error, unsafe rendered path (see CheckPath) or limit reached (see
// RenderLimits), and when ctx is done; it writes nothing.
func RenderContext(ctx context.Context, opts Options) ([]File, Data, error) {
	if err := ValidateName(opts.Name); err != nil {
		return nil, Data{}, err
	}
	if opts.Module == "" {
		opts.Module = opts.Name
	}
	if err := ValidateModule(opts.Module); err != nil {
		return nil, Data{}, err
	}
	if opts.Template == nil {
		return nil, Data{}, errors.New("generator: no template given")
	}
	if opts.AppgenVersion == "" {
		opts.AppgenVersion = "devel"
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = cryptoRand
	}
	key := opts.SecretKey
	if key == "" {
		var err error
		if key, err = SecretKey(rnd); err != nil {
			return nil, Data{}, err
		}
	}
	data := Data{
		Name:           opts.Name,
		Module:         opts.Module,
		SecretKey:      key,
		AppgenVersion:  opts.AppgenVersion,
		GoVersion:      GoVersion,
		RuntimeModule:  RuntimeModule,
		RuntimeVersion: DevelRuntimeVersion,
	}
	var sum func() (string, error)
	if opts.Runtime != nil {
		if err := opts.Runtime.check(); err != nil {
			return nil, Data{}, err
		}
		data.RuntimeVersion = opts.Runtime.Version
		// The go.sum lines hash every file of the runtime module, whatever the template
		// holds: on another CPU while the template renders.
		type result struct {
			lines string
			err   error
		}
		done := make(chan result, 1)
		go func() {
			lines, err := opts.Runtime.Sum()
			done <- result{lines, err}
		}()
		sum = func() (string, error) { r := <-done; return r.lines, r.err }
	}
	files, err := renderTemplate(ctx, opts.Template, data, opts.Limits.withDefaults(), opts.Formatted)
	if err != nil {
		return nil, Data{}, err
	}
	if opts.Runtime != nil {
		for _, f := range files {
			if f.Path == VendorDir || strings.HasPrefix(f.Path, VendorDir+"/") || f.Path == "go.sum" {
				return nil, Data{}, fmt.Errorf("generator: template file %s is where appgen writes the vendored runtime (%s/ and go.sum)", f.Path, VendorDir)
			}
		}
		vendored, err := vendor(*opts.Runtime, files, sum)
		if err != nil {
			return nil, Data{}, err
		}
		files = append(files, vendored...)
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files, data, nil
}

// renderTemplate renders every file of tmpl within lim. Rendering runs in its own goroutine
// so that the caller gets its error when the deadline passes even if a template function is
// still busy; the goroutine stops at its next function call, loop iteration or template call.
func renderTemplate(ctx context.Context, tmpl fs.FS, data Data, lim RenderLimits, formatted bool) ([]File, error) {
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	type result struct {
		files []File
		err   error
	}
	done := make(chan result, 1)
	r := &renderer{tmpl: tmpl, data: data, b: &budget{ctx: ctx, lim: lim}, formatted: formatted}
	r.funcs = template.New("").Funcs(r.b.funcMap()).Option("missingkey=error")
	go func() {
		files, err := r.all()
		done <- result{files, err}
	}()
	select {
	case res := <-done:
		return res.files, res.err
	case <-ctx.Done():
	}
	// The renderer stops at its next tick with an error naming the file; a function still
	// busy past a short grace gets the file it is rendering named from here.
	select {
	case res := <-done:
		if res.err != nil {
			return nil, res.err
		}
	case <-time.After(100 * time.Millisecond):
	}
	file, _ := r.current.Load().(string)
	if ctx.Err() == context.DeadlineExceeded {
		return nil, &TemplateError{File: file, Err: fmt.Errorf("%w: rendering took longer than %v", ErrRenderLimit, lim.Timeout)}
	}
	return nil, ctx.Err()
}

type renderer struct {
	tmpl      fs.FS
	data      Data
	b         *budget
	funcs     *template.Template // no text, only the functions and options: each file's template is a clone
	current   atomic.Value       // string: the template file being rendered, for a timeout's error
	formatted bool               // Options.Formatted
}

func (r *renderer) all() ([]File, error) {
	var files []File
	var sources []string            // the template file of each of files
	from := make(map[string]string) // rendered path -> template path, to catch two files landing on one path
	err := fs.WalkDir(r.tmpl, ".", func(src string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("generator: reading template: %w", err)
		}
		if d.IsDir() {
			// Skipped as LoadTemplate skips it: a template kept in git has its history here.
			// A .git made by rendering a name is refused by CheckPath instead.
			if d.Name() == ".git" {
				return fs.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("generator: reading template file %s: %w", src, err)
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("generator: template file %s is a %s; want a regular file", src, describeMode(info.Mode()))
		}
		r.current.Store(src)
		dst, err := r.path(src)
		if err != nil {
			return err
		}
		if prev, dup := from[dst]; dup {
			return fmt.Errorf("generator: template files %s and %s both render to %s", prev, src, dst)
		}
		from[dst] = src
		content, err := fs.ReadFile(r.tmpl, src)
		if err != nil {
			return fmt.Errorf("generator: reading template file %s: %w", src, err)
		}
		if strings.HasSuffix(src, ".tmpl") {
			content, err = r.execute(src, string(content), r.b.lim.MaxFileBytes)
			if err != nil {
				return err
			}
		} else {
			// Rendered files were counted as they were written; a copied file counts here.
			r.b.total += int64(len(content))
			if r.b.total > r.b.lim.MaxTotalBytes {
				return fmt.Errorf("generator: template file %s: %w: the template's files are over %d bytes in all", src, ErrRenderLimit, r.b.lim.MaxTotalBytes)
			}
		}
		mode := fs.FileMode(0o666)
		if info.Mode()&0o111 != 0 || bytes.HasPrefix(content, []byte("#!")) {
			mode = 0o777
		}
		files = append(files, File{Path: dst, Mode: mode, Data: content})
		sources = append(sources, src)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("generator: the template holds no files")
	}
	if r.formatted {
		return files, nil
	}
	if err := formatGo(files, sources); err != nil {
		return nil, err
	}
	return files, nil
}

// formatGo formats the Go files among files as gofmt would (outside testdata), so gofmt -l
// on a project prints nothing. Formatting is most of rendering's CPU time, and the files
// are independent: they are formatted on every CPU at once.
func formatGo(files []File, sources []string) error {
	var todo []int
	for i, f := range files {
		if path.Ext(f.Path) == ".go" && !inTestdata(f.Path) {
			todo = append(todo, i)
		}
	}
	errs := make([]error, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(goruntime.GOMAXPROCS(0), len(todo)) {
		wg.Go(func() {
			for i := range next {
				formatted, err := format.Source(files[i].Data)
				if err != nil {
					errs[i] = &TemplateError{File: sources[i], Err: fmt.Errorf("rendered Go does not parse: %w", err)}
					continue
				}
				files[i].Data = formatted
			}
		})
	}
	for _, i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err // the first in path order, as a sequential run would report it
		}
	}
	return nil
}

// path renders a template file's path and drops a .tmpl suffix. The rendered path must pass
// CheckPath: the data (a module path, say) decides what a name renders to, so the rules are
// applied to what is rendered, not to the template's names.
func (r *renderer) path(src string) (string, error) {
	dst := src
	if strings.Contains(src, "{{") {
		out, err := r.execute(src, src, maxPathBytes+1)
		if err != nil {
			return "", err
		}
		dst = string(out)
	}
	dst = strings.TrimSuffix(dst, ".tmpl")
	if err := CheckPath(dst); err != nil {
		return "", fmt.Errorf("generator: template file %s renders to a path appgen will not write: %w", src, err)
	}
	return dst, nil
}

// execute renders text within the budget: output beyond limit bytes (or the template's
// total) fails the write that would pass it, and the parse tree is instrumented so that
// every loop iteration and template call checks the deadline and the nesting depth.
func (r *renderer) execute(name, text string, limit int64) ([]byte, error) {
	// Cloning copies the checked function map; Funcs would check all ~200 functions again
	// for every file. Each file gets a namespace of its own, as with template.New.
	base, err := r.funcs.Clone()
	if err != nil {
		return nil, newTemplateError(name, err)
	}
	t, err := base.New(name).Parse(text)
	if err != nil {
		return nil, newTemplateError(name, err)
	}
	for _, tt := range t.Templates() {
		if tt.Tree != nil && tt.Tree.Root != nil {
			instrument(tt.Tree.Root)
			tt.Tree.Root.Nodes = append(append([]parse.Node{call(tt.Tree.Root, enterFunc)}, tt.Tree.Root.Nodes...), call(tt.Tree.Root, leaveFunc))
		}
	}
	w := &limitedBuffer{max: limit, total: &r.b.total, limit: r.b.lim.MaxTotalBytes}
	if err := t.Execute(w, r.data); err != nil {
		te := newTemplateError(name, err)
		if r.b.exceeded != nil {
			// A function's error reaches here inside text/template's message; say only it.
			te.Err = r.b.exceeded
		}
		return nil, te
	}
	return w.buf, nil
}

// instrument puts a call of tickFunc at the start of every range body, so that a loop
// checks the budget on each iteration even when its body calls no function
// ({{"{{"}}range 1000000000000{{"}}"}}{{"{{"}}end{{"}}"}}).
func instrument(list *parse.ListNode) {
	if list == nil {
		return
	}
	for _, n := range list.Nodes {
		switch n := n.(type) {
		case *parse.RangeNode:
			instrument(n.List)
			instrument(n.ElseList)
			n.List.Nodes = append([]parse.Node{call(n.List, tickFunc)}, n.List.Nodes...)
		case *parse.IfNode:
			instrument(n.List)
			instrument(n.ElseList)
		case *parse.WithNode:
			instrument(n.List)
			instrument(n.ElseList)
		}
	}
}

// call returns the action {{"{{"}}name{{"}}"}}, placed at at's position for error messages.
func call(at parse.Node, name string) *parse.ActionNode {
	pos := at.Position()
	cmd := &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: []parse.Node{parse.NewIdentifier(name).SetPos(pos)}}
	return &parse.ActionNode{NodeType: parse.NodeAction, Pos: pos, Pipe: &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Cmds: []*parse.CommandNode{cmd}}}
}

func inTestdata(p string) bool {
	return slices.Contains(strings.Split(path.Dir(p), "/"), "testdata")
}

func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}
