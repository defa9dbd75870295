package generator

import (
	"bytes"
	"errors"
	"fmt"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
)

// VendorDir is where a project carries the runtime module's packages, as `go mod vendor`
// lays them out, so the project builds with no network and an empty module cache.
const VendorDir = "vendor"

// Runtime is the runtime module a project requires: its files and the version they are.
type Runtime struct {
	// Files is the module's file tree rooted at its go.mod (appgenruntime.Files, or
	// os.DirFS of a checkout's runtime folder); required.
	Files fs.FS
	// Version is the module version the project requires, a canonical semantic version
	// (v1.2.3, or a pseudo-version such as v0.0.0-20261205120000-abcdefabcdef); required.
	Version string
}

// check says whether r is a usable runtime: a valid version and the runtime's own go.mod.
func (r Runtime) check() error {
	if r.Files == nil {
		return errors.New("generator: no runtime module files given")
	}
	if err := module.Check(RuntimeModule, r.Version); err != nil {
		return fmt.Errorf("generator: runtime version %q: %w", r.Version, err)
	}
	data, err := fs.ReadFile(r.Files, "go.mod")
	if err != nil {
		return fmt.Errorf("generator: reading the runtime module's go.mod: %w", err)
	}
	if p := modfile.ModulePath(data); p != RuntimeModule {
		return fmt.Errorf("generator: the runtime files' go.mod declares module %q, want %q", p, RuntimeModule)
	}
	return nil
}

// Sum returns the two go.sum lines for r, as the go command computes them from the
// module's zip and go.mod: a proxy's copy of this version must hash the same.
func (r Runtime) Sum() (string, error) {
	if err := r.check(); err != nil {
		return "", err
	}
	files, err := moduleFiles(r.Files)
	if err != nil {
		return "", err
	}
	prefix := RuntimeModule + "@" + r.Version + "/"
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = prefix + f
	}
	buf := make([]byte, 32<<10)
	open := func(name string) (io.ReadCloser, error) {
		f, err := r.Files.Open(strings.TrimPrefix(name, prefix))
		if err != nil {
			return nil, err
		}
		return sharedBufferFile{f, buf}, nil
	}
	zipHash, err := dirhash.Hash1(names, open)
	if err != nil {
		return "", fmt.Errorf("generator: hashing the runtime module: %w", err)
	}
	modHash, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) { return r.Files.Open("go.mod") })
	if err != nil {
		return "", fmt.Errorf("generator: hashing the runtime's go.mod: %w", err)
	}
	return fmt.Sprintf("%s %s %s\n%s %s/go.mod %s\n", RuntimeModule, r.Version, zipHash, RuntimeModule, r.Version, modHash), nil
}

// sharedBufferFile is a file whose WriteTo copies through one buffer shared by every file.
// dirhash.Hash1 copies each file with io.Copy, which allocates 32 KB per file when the file
// has no WriteTo (embed's files have none): for the runtime's ~950 files that was most of
// startproject's allocations and a good part of its time. Hash1 reads one file at a time.
type sharedBufferFile struct {
	fs.File
	buf []byte
}

func (f sharedBufferFile) WriteTo(w io.Writer) (int64, error) {
	return io.CopyBuffer(w, struct{ io.Reader }{f.File}, f.buf)
}

// moduleFiles lists the files a module zip of the tree holds, as golang.org/x/mod/zip's
// CreateFromDir picks them: regular files, outside version-control folders, vendor
// packages and nested modules.
func moduleFiles(fsys fs.FS) ([]string, error) {
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("generator: reading the runtime module: %w", err)
		}
		if d.IsDir() {
			if p == "." {
				return nil
			}
			switch d.Name() {
			case ".bzr", ".git", ".hg", ".svn", "vendor":
				return fs.SkipDir
			}
			if _, err := fs.Stat(fsys, p+"/go.mod"); err == nil {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	return files, err
}

// Vendor returns the files `go mod vendor` writes for a project whose Go files are project
// and which requires r and nothing else: vendor/modules.txt, and the runtime packages the
// project's packages and tests import (directly or through other runtime packages), each
// with its non-test files. It also returns go.sum, so the go command can later check a
// proxy's copy of the same version (`go mod vendor`, `go mod verify`).
func Vendor(r Runtime, project []File) ([]File, error) {
	return vendor(r, project, r.Sum)
}

// vendor is Vendor with the go.sum lines from sum, which RenderContext computes while the
// template renders: hashing the whole runtime module is most of vendoring's time.
func vendor(r Runtime, project []File, sum func() (string, error)) ([]File, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	modData, err := fs.ReadFile(r.Files, "go.mod")
	if err != nil {
		return nil, fmt.Errorf("generator: reading the runtime module's go.mod: %w", err)
	}
	mf, err := modfile.ParseLax("go.mod", modData, nil)
	if err != nil || mf.Go == nil {
		return nil, fmt.Errorf("generator: the runtime module's go.mod has no go directive: %v", err)
	}
	var wanted []string
	for _, f := range project {
		if path.Ext(f.Path) != ".go" || strings.HasPrefix(f.Path, VendorDir+"/") || slices.Contains(strings.Split(f.Path, "/"), "testdata") {
			continue
		}
		if ignored(f.Data) {
			continue
		}
		imps, err := fileImports(f.Path, f.Data, true)
		if err != nil {
			return nil, err
		}
		wanted = append(wanted, imps...)
	}
	pkgs := map[string][]string{} // runtime package dir (relative to the module) -> its vendored files
	for len(wanted) > 0 {
		imp := wanted[len(wanted)-1]
		wanted = wanted[:len(wanted)-1]
		rel, ok := runtimePackageDir(imp)
		if !ok {
			continue
		}
		if _, done := pkgs[rel]; done {
			continue
		}
		files, imps, err := vendorPackage(r.Files, rel)
		if err != nil {
			return nil, fmt.Errorf("generator: the project imports %s: %w", imp, err)
		}
		pkgs[rel] = files
		wanted = append(wanted, imps...)
	}
	if len(pkgs) == 0 {
		return nil, nil
	}
	dirs := make([]string, 0, len(pkgs))
	for d := range pkgs {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	var txt bytes.Buffer
	fmt.Fprintf(&txt, "# %s %s\n## explicit; go %s\n", RuntimeModule, r.Version, mf.Go.Version)
	prefix := VendorDir + "/" + RuntimeModule
	var out []File
	for _, d := range dirs {
		fmt.Fprintf(&txt, "%s\n", path.Join(RuntimeModule, d))
		for _, name := range pkgs[d] {
			data, err := fs.ReadFile(r.Files, name)
			if err != nil {
				return nil, fmt.Errorf("generator: reading runtime file %s: %w", name, err)
			}
			out = append(out, File{Path: prefix + "/" + name, Mode: 0o666, Data: data})
		}
	}
	// go mod vendor copies license-like files from the module root and every folder down to
	// a vendored package, so that a vendor tree carries its notices.
	meta := map[string]bool{}
	for _, d := range dirs {
		for dir := d; ; dir = path.Dir(dir) {
			meta[dir] = true
			if dir == "." {
				break
			}
		}
	}
	for dir := range meta {
		entries, err := fs.ReadDir(r.Files, dir)
		if err != nil {
			return nil, fmt.Errorf("generator: reading the runtime module: %w", err)
		}
		for _, e := range entries {
			if e.Type().IsRegular() && isMetadataFile(e.Name()) && !slices.Contains(pkgs[dir], path.Join(dir, e.Name())) {
				data, err := fs.ReadFile(r.Files, path.Join(dir, e.Name()))
				if err != nil {
					return nil, err
				}
				out = append(out, File{Path: path.Join(prefix, dir, e.Name()), Mode: 0o666, Data: data})
			}
		}
	}
	sumLines, err := sum()
	if err != nil {
		return nil, err
	}
	out = append(out,
		File{Path: VendorDir + "/modules.txt", Mode: 0o666, Data: txt.Bytes()},
		File{Path: "go.sum", Mode: 0o666, Data: []byte(sumLines)})
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// isMetadataFile is go mod vendor's rule for the notices it keeps (modcmd's metaPrefixes).
func isMetadataFile(name string) bool {
	upper := strings.ToUpper(name)
	for _, p := range []string{"AUTHORS", "CONTRIBUTORS", "COPYLEFT", "COPYING", "COPYRIGHT", "LEGAL", "LICENSE", "NOTICE", "PATENTS"} {
		if strings.HasPrefix(upper, p) {
			return true
		}
	}
	return false
}

// runtimePackageDir returns the folder, relative to the runtime module, of the import path
// imp, and whether imp is in the runtime module at all.
func runtimePackageDir(imp string) (string, bool) {
	if imp == RuntimeModule {
		return ".", true
	}
	rel, ok := strings.CutPrefix(imp, RuntimeModule+"/")
	return rel, ok
}

// vendorPackage returns the files go mod vendor copies for the package in dir (every file
// directly in it but tests, go.mod/go.sum and files built only with the "ignore" tag) and
// the imports of its Go files.
func vendorPackage(fsys fs.FS, dir string) (files, imports []string, err error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, nil, fmt.Errorf("no such runtime package: %w", err)
	}
	hasGo := false
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasSuffix(name, "_test.go") || name == "go.mod" || name == "go.sum" {
			continue
		}
		p := path.Join(dir, name)
		if strings.HasSuffix(name, ".go") {
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return nil, nil, err
			}
			if ignored(data) {
				continue
			}
			imps, err := fileImports(p, data, false)
			if err != nil {
				return nil, nil, err
			}
			imports = append(imports, imps...)
			hasGo = true
		}
		files = append(files, p)
	}
	if !hasGo {
		return nil, nil, fmt.Errorf("runtime folder %s holds no Go package", dir)
	}
	return files, imports, nil
}

// ignored reports whether a Go file builds with no set of tags but "ignore": the go
// command's vendoring matches every tag except that one, as imports.AnyTags does.
func ignored(src []byte) bool {
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "//") && !constraint.IsGoBuild(line) {
			continue
		}
		if !constraint.IsGoBuild(line) {
			return false
		}
		expr, err := constraint.Parse(line)
		if err != nil {
			return false
		}
		return !anyTags(expr, true)
	}
	return false
}

// anyTags evaluates expr with every tag but "ignore" counting as prefer (the go command's
// matchTag with the "*" tag), so that both "linux" and "!linux" files are vendored.
func anyTags(expr constraint.Expr, prefer bool) bool {
	switch x := expr.(type) {
	case *constraint.TagExpr:
		if x.Tag == "ignore" {
			return false
		}
		return prefer
	case *constraint.NotExpr:
		return !anyTags(x.X, !prefer)
	case *constraint.AndExpr:
		return anyTags(x.X, prefer) && anyTags(x.Y, prefer)
	case *constraint.OrExpr:
		return anyTags(x.X, prefer) || anyTags(x.Y, prefer)
	}
	return false
}

// fileImports returns the import paths of one Go file; test files count only when tests is
// set (a project's own tests need their imports vendored, the runtime's do not).
func fileImports(name string, src []byte, tests bool) ([]string, error) {
	if !tests && strings.HasSuffix(name, "_test.go") {
		return nil, nil
	}
	f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
	if err != nil {
		return nil, fmt.Errorf("generator: reading the imports of %s: %w", name, err)
	}
	imps := make([]string, 0, len(f.Imports))
	for _, s := range f.Imports {
		p, err := strconv.Unquote(s.Path.Value)
		if err != nil {
			return nil, fmt.Errorf("generator: %s: import %s: %w", name, s.Path.Value, err)
		}
		imps = append(imps, p)
	}
	return imps, nil
}
