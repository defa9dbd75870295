package golden

import (
	"bytes"
	"fmt"
	"go/format"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appgen/appgen/generator"
	"github.com/appgen/appgen/internal/command"
	"golang.org/x/tools/txtar"
)

// goldenDir stands in for the temporary directory the project is generated into, wherever
// a generated file names its own absolute path (the launcher, the server configurations).
const goldenDir = "/path/to/mysite"

// startproject runs `appgen startproject mysite DIR` through the real entry point with a
// fixed secret seed, and returns DIR.
func startproject(t *testing.T) string {
	t.Helper()
	t.Setenv("APPGEN_SECRET_SEED", "golden")
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "mysite")
	var stdout, stderr bytes.Buffer
	args := []string{"appgen", "startproject", "mysite", dir}
	if status := command.Execute(command.Build{Version: "devel"}, os.DirFS(root), args, &stdout, &stderr); status != 0 {
		t.Fatalf("appgen startproject: status %d\n%s%s", status, stdout.String(), stderr.String())
	}
	return dir
}

// TestStartproject compares the whole default tree of `appgen startproject mysite` with
// testdata/startproject/mysite.txtar, except the runtime sources (TestRuntimeBundle).
func TestStartproject(t *testing.T) {
	dir := startproject(t)
	have := &txtar.Archive{}
	var executable []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, generator.RuntimeDir+"/") && rel != generator.RuntimeDir+"/go.mod" {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode()&0o100 != 0 {
			executable = append(executable, rel)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		data = bytes.ReplaceAll(data, []byte(dir), []byte(goldenDir))
		have.Files = append(have.Files, txtar.File{Name: rel, Data: data})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var c strings.Builder
	fmt.Fprintf(&c, "appgen startproject mysite %s, with APPGEN_SECRET_SEED=golden and appgen version devel.\n", goldenDir)
	fmt.Fprintf(&c, "Regenerate with: go test ./golden -run TestStartproject -update\n")
	fmt.Fprintf(&c, "The runtime sources under %s are not stored here: TestRuntimeBundle checks them.\n", generator.RuntimeDir)
	fmt.Fprintf(&c, "Executable files:\n")
	for _, e := range executable {
		fmt.Fprintf(&c, "  %s\n", e)
	}
	have.Comment = []byte(c.String())
	CompareArchive(t, filepath.Join("testdata", "startproject", "mysite.txtar"), have)

	// Idempotence: gofmt has nothing left to change in any generated Go file.
	for _, f := range have.Files {
		if path.Ext(f.Name) != ".go" {
			continue
		}
		formatted, err := format.Source(f.Data)
		if err != nil {
			t.Errorf("%s does not parse: %v", f.Name, err)
			continue
		}
		if !bytes.Equal(formatted, f.Data) {
			t.Errorf("%s is not gofmt-clean", f.Name)
		}
	}
}

// TestRuntimeBundle checks the bundled runtime file by file against runtime/, without the
// tests and testdata it leaves out.
func TestRuntimeBundle(t *testing.T) {
	dir := startproject(t)
	runtimeDir, err := filepath.Abs(filepath.Join("..", "runtime"))
	if err != nil {
		t.Fatal(err)
	}
	bundleDir := filepath.Join(dir, filepath.FromSlash(generator.RuntimeDir))
	want := map[string]bool{}
	err = filepath.WalkDir(runtimeDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(runtimeDir, p)
		rel = filepath.ToSlash(rel)
		if generator.BundledRuntimeFile(rel) {
			want[rel] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("runtime/ has no files to bundle")
	}
	err = filepath.WalkDir(bundleDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(bundleDir, p)
		rel = filepath.ToSlash(rel)
		if rel == "go.mod" {
			return nil
		}
		if strings.HasSuffix(rel, "_test.go") || strings.Contains("/"+rel, "/testdata/") {
			t.Errorf("the bundle holds %s, a test file", rel)
		}
		if !want[rel] {
			t.Errorf("unexpected file in the bundle: %s", rel)
			return nil
		}
		delete(want, rel)
		have, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		orig, err := os.ReadFile(filepath.Join(runtimeDir, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		if !bytes.Equal(have, orig) {
			t.Errorf("bundled %s differs from runtime/%s", rel, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel := range want {
		t.Errorf("missing file in the bundle: %s", rel)
	}
}
