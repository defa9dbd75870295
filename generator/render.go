package generator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"golang.org/x/tools/imports"
)

// GoVersion is the go directive of a generated project and of the runtime bundle: the
// oldest Go the runtime supports, not the Go that built appgen.
const GoVersion = "1.24"

// RuntimeModule is the module path of the bundled runtime, the same path its packages
// have inside appgen, so runtime sources are copied without rewriting imports.
const RuntimeModule = "github.com/appgen/appgen/runtime"

// RuntimeDir is where the runtime bundle is written inside a project.
const RuntimeDir = "third_party/appgen-runtime"

// Data is what templates see. Its fields are the names templates use: {{.Name}}.
type Data struct {
	Name          string // the project name, validated by ValidateName
	Module        string // the project's module path
	SecretKey     string // a fresh random secret key (see Options.Rand)
	AppgenVersion string // the appgen version that rendered the project
	GoVersion     string // GoVersion
	RuntimeModule string // RuntimeModule
	RuntimeDir    string // RuntimeDir
}

// Options says what to render.
type Options struct {
	// Name is the project name; required, checked with ValidateName.
	Name string
	// Module is the project's module path, checked with ValidateModule. Empty means Name.
	Module string
	// Template is the project template; required.
	Template fs.FS
	// Runtime holds the runtime sources, rooted at the folder that contains the runtime
	// packages (gateway/, manage/, …). Nil means no runtime bundle is added.
	Runtime fs.FS
	// AppgenVersion is given to templates as .AppgenVersion. Empty means "devel".
	AppgenVersion string
	// Rand is the source of the secret key. Nil means crypto/rand; tests pass
	// SeededReader for reproducible output.
	Rand io.Reader
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

// Render validates opts, renders the template and adds the runtime bundle. It returns the
// files sorted by path and the data the templates saw. It fails on the first invalid option
// or template error, before anything else happens, and writes nothing.
func Render(opts Options) ([]File, Data, error) {
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
	key, err := SecretKey(rnd)
	if err != nil {
		return nil, Data{}, err
	}
	data := Data{
		Name:          opts.Name,
		Module:        opts.Module,
		SecretKey:     key,
		AppgenVersion: opts.AppgenVersion,
		GoVersion:     GoVersion,
		RuntimeModule: RuntimeModule,
		RuntimeDir:    RuntimeDir,
	}
	files, err := renderTemplate(opts.Template, data)
	if err != nil {
		return nil, Data{}, err
	}
	if opts.Runtime != nil {
		bundle, err := runtimeBundle(opts.Runtime)
		if err != nil {
			return nil, Data{}, err
		}
		for _, f := range files {
			if f.Path == RuntimeDir || strings.HasPrefix(f.Path, RuntimeDir+"/") {
				return nil, Data{}, fmt.Errorf("generator: template file %s is inside %s, which appgen writes the runtime into", f.Path, RuntimeDir)
			}
		}
		files = append(files, bundle...)
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files, data, nil
}

func renderTemplate(tmpl fs.FS, data Data) ([]File, error) {
	var files []File
	from := make(map[string]string) // rendered path -> template path, to catch two files landing on one path
	err := fs.WalkDir(tmpl, ".", func(src string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("generator: reading template: %w", err)
		}
		if d.IsDir() {
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
		dst, err := renderPath(src, data)
		if err != nil {
			return err
		}
		if prev, dup := from[dst]; dup {
			return fmt.Errorf("generator: template files %s and %s both render to %s", prev, src, dst)
		}
		from[dst] = src
		content, err := fs.ReadFile(tmpl, src)
		if err != nil {
			return fmt.Errorf("generator: reading template file %s: %w", src, err)
		}
		if strings.HasSuffix(src, ".tmpl") {
			content, err = execute(src, string(content), data)
			if err != nil {
				return err
			}
		}
		if path.Ext(dst) == ".go" && !inTestdata(dst) {
			formatted, err := imports.Process(dst, content, &imports.Options{FormatOnly: true, Comments: true, TabIndent: true, TabWidth: 8})
			if err != nil {
				return &TemplateError{File: src, Err: fmt.Errorf("rendered Go does not parse: %w", err)}
			}
			content = formatted
		}
		mode := fs.FileMode(0o666)
		if info.Mode()&0o111 != 0 || bytes.HasPrefix(content, []byte("#!")) {
			mode = 0o777
		}
		files = append(files, File{Path: dst, Mode: mode, Data: content})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("generator: the template holds no files")
	}
	return files, nil
}

// renderPath renders a template file's path and drops a .tmpl suffix. The rendered path
// must stay a plain relative path: data such as a module path must not smuggle in "..".
func renderPath(src string, data Data) (string, error) {
	dst := src
	if strings.Contains(src, "{{") {
		out, err := execute(src, src, data)
		if err != nil {
			return "", err
		}
		dst = string(out)
	}
	dst = strings.TrimSuffix(dst, ".tmpl")
	if !fs.ValidPath(dst) || dst == "." || strings.Contains(dst, `\`) {
		return "", fmt.Errorf("generator: template file %s renders to the path %q; want a relative slash-separated path without empty, . or .. elements", src, dst)
	}
	return dst, nil
}

func execute(name, text string, data Data) ([]byte, error) {
	t, err := template.New(name).Funcs(sprig.TxtFuncMap()).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, newTemplateError(name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, newTemplateError(name, err)
	}
	return b.Bytes(), nil
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
