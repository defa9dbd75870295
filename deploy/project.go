package deploy

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"

	"golang.org/x/mod/modfile"
)

// Project is what `appgen config` learns from a generated project: its module and the
// deployment constants of settings/deploy.go.
type Project struct {
	// Dir is the project's absolute directory.
	Dir string
	// Module is the module path from go.mod.
	Module string
	// Name is ProjectName. Default: the last element of Module.
	Name string
	// Protocol is "fcgi", "scgi", "ajp" or "http". Default "fcgi".
	Protocol string
	// Host and Port are the TCP address runfcgi listens on. Defaults "127.0.0.1" and 3033.
	Host string
	Port int
	// Socket is a unix socket path; when set, Host and Port are not used. Default "".
	Socket string
	// StaticURL is the URL path of static files. Default "/static/".
	StaticURL string
	// StaticRoot is the static files' directory, relative to Dir unless absolute.
	// Default "static".
	StaticRoot string
}

// DeploySettingsFile is where a project states its deployment constants.
const DeploySettingsFile = "settings/deploy.go"

// ErrNotProject is returned (wrapped) by ReadProject for a directory without go.mod or
// settings/deploy.go.
var ErrNotProject = errors.New("not a project directory")

// deployConstants are the constants of settings/deploy.go that ReadProject reads.
var deployConstants = map[string]bool{
	"ProjectName": true, "Protocol": true, "Host": true, "Port": true, "Socket": true,
	"StaticURL": true, "StaticRoot": true,
}

// ConstantError is ReadProject's error for a constant of settings/deploy.go it cannot read
// without building the project; callers may say which of their inputs replaces it.
type ConstantError struct {
	Pos      string // file:line:column
	Constant string // "Port"
}

func (e *ConstantError) Error() string {
	return fmt.Sprintf("deploy: %s: constant %s is not a basic literal, which appgen config reads without building the project; give the value as a literal", e.Pos, e.Constant)
}

// ReadProject reads the project in dir: the module path from go.mod and the constants of
// settings/deploy.go, parsed (not built). A constant whose value is not a basic literal
// is a *ConstantError. A directory without go.mod or without
// settings/deploy.go is not a project: the error wraps ErrNotProject.
func ReadProject(dir string) (Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Project{}, fmt.Errorf("deploy: %w", err)
	}
	p := Project{Dir: abs, Protocol: "fcgi", Host: "127.0.0.1", Port: 3033, StaticURL: "/static/", StaticRoot: "static"}
	modPath := filepath.Join(abs, "go.mod")
	data, err := os.ReadFile(modPath)
	if errors.Is(err, fs.ErrNotExist) {
		return Project{}, fmt.Errorf("deploy: %s: %w (no go.mod)", abs, ErrNotProject)
	}
	if err != nil {
		return Project{}, fmt.Errorf("deploy: %w", err)
	}
	p.Module = modfile.ModulePath(data)
	if p.Module == "" {
		return Project{}, fmt.Errorf("deploy: %s has no module line", modPath)
	}
	p.Name = path.Base(p.Module)
	settings := filepath.Join(abs, filepath.FromSlash(DeploySettingsFile))
	src, err := os.ReadFile(settings)
	if errors.Is(err, fs.ErrNotExist) {
		return Project{}, fmt.Errorf("deploy: %s: %w (no %s)", abs, ErrNotProject, DeploySettingsFile)
	}
	if err != nil {
		return Project{}, fmt.Errorf("deploy: %w", err)
	}
	consts, err := parseConstants(settings, src)
	if err != nil {
		return Project{}, err
	}
	for name, v := range consts {
		var err error
		switch name {
		case "ProjectName":
			p.Name, err = v.str()
		case "Protocol":
			p.Protocol, err = v.str()
		case "Host":
			p.Host, err = v.str()
		case "Port":
			p.Port, err = v.integer()
		case "Socket":
			p.Socket, err = v.str()
		case "StaticURL":
			p.StaticURL, err = v.str()
		case "StaticRoot":
			p.StaticRoot, err = v.str()
		}
		if err != nil {
			return Project{}, fmt.Errorf("deploy: %s: constant %s: %w", v.pos, name, err)
		}
	}
	return p, nil
}

// FindProject reads the project that holds dir: the nearest of dir and its parents with a
// go.mod, as the go command finds its module. The error wraps ErrNotProject when no parent
// has a go.mod, or when the nearest go.mod's directory has no settings/deploy.go.
func FindProject(dir string) (Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Project{}, fmt.Errorf("deploy: %w", err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return ReadProject(d)
		}
		if filepath.Dir(d) == d {
			return Project{}, fmt.Errorf("deploy: %s: %w (no go.mod here or in any parent directory)", abs, ErrNotProject)
		}
	}
}

// literal is one constant's basic literal.
type literal struct {
	pos string
	lit *ast.BasicLit
}

func (l literal) str() (string, error) {
	if l.lit.Kind != token.STRING {
		return "", fmt.Errorf("value %s is not a string literal", l.lit.Value)
	}
	return strconv.Unquote(l.lit.Value)
}

func (l literal) integer() (int, error) {
	if l.lit.Kind != token.INT {
		return 0, fmt.Errorf("value %s is not an integer literal", l.lit.Value)
	}
	n, err := strconv.ParseInt(l.lit.Value, 0, 0)
	if err != nil {
		return 0, fmt.Errorf("value %s: %v", l.lit.Value, err)
	}
	return int(n), nil
}

// parseConstants returns the package-level constants of src that appgen config reads, each
// of which must be a basic literal.
func parseConstants(filename string, src []byte) (map[string]literal, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("deploy: parsing %w", err)
	}
	out := map[string]literal{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, id := range vs.Names {
				if !deployConstants[id.Name] {
					continue
				}
				pos := fset.Position(id.Pos()).String()
				var expr ast.Expr
				if i < len(vs.Values) {
					expr = vs.Values[i]
				}
				lit, ok := expr.(*ast.BasicLit)
				if !ok {
					return nil, &ConstantError{Pos: pos, Constant: id.Name}
				}
				out[id.Name] = literal{pos: pos, lit: lit}
			}
		}
	}
	return out, nil
}

// Options returns Options for target with the project's settings: name, directory,
// protocol, its one backend, and static URL and root. Flags then override fields.
func (p Project) Options(target string) Options {
	o := Options{Target: target, Name: p.Name, Dir: p.Dir, Protocol: p.Protocol, StaticURL: p.StaticURL, StaticRoot: p.StaticRoot}
	if t, ok := targetByName[target]; ok && t.onRequest {
		// An image's paths are its own, not this machine's: the default /srv/NAME, with the
		// project's static root inside it.
		o.Dir = ""
	}
	if p.Socket != "" {
		o.Backends = []Backend{Unix(p.Socket)}
	} else {
		o.Backends = []Backend{TCP(p.Host, p.Port)}
	}
	return o
}

// File is one file ProjectFiles renders.
type File struct {
	// Path is slash-separated and relative to the project directory.
	Path string
	// Mode is 0o666, or 0o777 for scripts: the permission before the umask.
	Mode fs.FileMode
	// Data is the file's content.
	Data []byte
}

// ProjectFiles renders the default set of configurations for a new project: deploy/ holds
// one file per target the project's protocol can use (nginx.conf, apache.conf, …), and the
// launcher NAME.fcgi goes at the project root. version is the appgen version recorded in
// each header. Targets that cannot speak p.Protocol are left out.
func ProjectFiles(p Project, version string) ([]File, error) {
	var files []File
	for _, t := range targets {
		if t.onRequest {
			continue
		}
		o := p.Options(t.name)
		o.Version = version
		o.Command = "appgen startproject " + p.Name
		if !containsString(t.protocols, o.Protocol) {
			if t.name != "fcgi" && t.name != "apache-fcgid" && t.name != "htaccess" {
				continue
			}
			// The spawned targets always speak FastCGI, whatever the project's daemon speaks.
			o.Protocol = "fcgi"
		}
		data, err := Render(o)
		if err != nil {
			return nil, fmt.Errorf("deploy: default %s configuration: %w", t.name, err)
		}
		name := DefaultFile(t.name, p.Name)
		f := File{Path: "deploy/" + name, Mode: 0o666, Data: data}
		if t.name == "fcgi" {
			f.Path = name
		}
		if len(data) > 2 && string(data[:2]) == "#!" {
			f.Mode = 0o777
		}
		files = append(files, f)
	}
	return files, nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
