package golden

import (
	"bytes"
	"fmt"
	"go/format"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
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
	if status := command.Execute(command.Build{Version: "devel"}, os.DirFS(filepath.Join(root, "runtime")), args, &stdout, &stderr); status != 0 {
		t.Fatalf("appgen startproject: status %d\n%s%s", status, stdout.String(), stderr.String())
	}
	return dir
}

var sha256Field = regexp.MustCompile(`"sha256": "[0-9a-f]{64}"`)

// TestStartproject compares the whole default tree of `appgen startproject mysite` with
// testdata/startproject/mysite.txtar, except the vendored runtime's files and go.sum, which
// change with every runtime change (internal/command's TestVendorEqualsGoModVendor checks them
// against go mod vendor), and the compressed copy of the generated files in .appgen/.
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
		if strings.HasPrefix(rel, generator.VendorDir+"/") && rel != generator.VendorDir+"/modules.txt" || rel == "go.sum" || rel == ".appgen/base.tar.gz" {
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
		if rel == ".appgen/manifest.json" {
			// The hashes are of the files as written, with the temporary directory in them.
			data = sha256Field.ReplaceAll(data, []byte(`"sha256": "…"`))
		}
		have.Files = append(have.Files, txtar.File{Name: rel, Data: data})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var c strings.Builder
	fmt.Fprintf(&c, "appgen startproject mysite %s, with APPGEN_SECRET_SEED=golden and appgen version devel.\n", goldenDir)
	fmt.Fprintf(&c, "Regenerate with: go test ./golden -run TestStartproject -update\n")
	fmt.Fprintf(&c, "The vendored runtime (but %s/modules.txt), go.sum and .appgen/base.tar.gz are not stored here;\nthe manifest's file hashes are masked.\n", generator.VendorDir)
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
