package generator

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// runtimeBundle returns the runtime's Go sources as project files under RuntimeDir, with a
// go.mod of their own. Tests and testdata stay behind: a project's `go test ./...` does not
// reach into another module, so they would be dead weight, and their fixtures can be large.
func runtimeBundle(src fs.FS) ([]File, error) {
	files := []File{{
		Path: RuntimeDir + "/go.mod",
		Mode: 0o666,
		Data: []byte(fmt.Sprintf("module %s\n\ngo %s\n", RuntimeModule, GoVersion)),
	}}
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("generator: reading the runtime sources: %w", err)
		}
		if d.IsDir() {
			if p != "." && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
				return fs.SkipDir
			}
			return nil
		}
		if !BundledRuntimeFile(p) {
			return nil
		}
		data, err := fs.ReadFile(src, p)
		if err != nil {
			return fmt.Errorf("generator: reading runtime file %s: %w", p, err)
		}
		files = append(files, File{Path: RuntimeDir + "/" + p, Mode: 0o666, Data: data})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return files, nil
}

// BundledRuntimeFile reports whether the runtime file at the slash path p (relative to the
// runtime root) belongs in a project's runtime bundle: Go source files, without tests,
// testdata, or the names the go command ignores (a leading . or _). Anything else in the
// runtime folder (a test binary left by `go test -c`, a profile, notes) is not needed to
// build and is left out; the bundle's go.mod is generated.
func BundledRuntimeFile(p string) bool {
	for _, elem := range strings.Split(p, "/") {
		if elem == "testdata" || strings.HasPrefix(elem, ".") || strings.HasPrefix(elem, "_") {
			return false
		}
	}
	base := path.Base(p)
	return strings.HasSuffix(base, ".go") && !strings.HasSuffix(base, "_test.go")
}
