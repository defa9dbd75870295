package command

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appgen/appgen/generator"
	"github.com/appgen/appgen/internal/modproxy"
)

// TestVendorEqualsGoModVendor replaces the old bundle-equals-runtime test: the vendor tree and
// go.sum startproject writes are exactly what the go command's own `go mod vendor` writes
// when the runtime module at that version comes from a proxy (one made here from runtime/),
// so the vendored copy is the module at that version, and go.sum's hashes are the module's.
func TestVendorEqualsGoModVendor(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod vendor: skipped with -short")
	}
	goBin := requireGo(t)
	dir := filepath.Join(t.TempDir(), "mysite")
	var out bytes.Buffer
	if status := Execute(Build{Version: "v1.4.0"}, os.DirFS(filepath.Join(repoRoot(t), "runtime")), []string{"appgen", "startproject", "mysite", dir}, &out, &out); status != 0 {
		t.Fatalf("startproject: status %d\n%s", status, out.String())
	}
	checkVendorIsModule(t, goBin, dir, filepath.Join(repoRoot(t), "runtime"), "v1.4.0")
}

// checkVendorIsModule runs `go mod vendor` in a copy of the project at dir (without its
// vendor folder and go.sum' hashes trusted from nowhere but the proxy) against a file://
// proxy holding runtimeDir as the runtime module at version, and compares the vendor tree and
// go.sum with the project's, byte for byte.
func checkVendorIsModule(t *testing.T, goBin, dir, runtimeDir, version string) {
	t.Helper()
	proxy := t.TempDir()
	if err := modproxy.Add(proxy, generator.RuntimeModule, version, runtimeDir); err != nil {
		t.Fatal(err)
	}
	copyDir := filepath.Join(t.TempDir(), "copy")
	if err := os.CopyFS(copyDir, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(copyDir, "vendor")); err != nil {
		t.Fatal(err)
	}
	modcache := t.TempDir()
	env := append(os.Environ(), "GOPROXY="+modproxy.URL(proxy), "GOMODCACHE="+modcache, "GOFLAGS=",
		"GONOSUMDB="+generator.RuntimeModule, "GOWORK=off", "GOTOOLCHAIN=local")
	t.Cleanup(func() {
		c := exec.Command(goBin, "clean", "-modcache")
		c.Env = env
		c.Run()
	})
	c := exec.Command(goBin, "mod", "vendor")
	c.Dir, c.Env = copyDir, env
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("go mod vendor: %v\n%s", err, out)
	}
	have, want := treeOf(t, dir), treeOf(t, copyDir)
	for p, w := range want {
		h, ok := have[p]
		switch {
		case !ok:
			t.Errorf("go mod vendor writes %s; startproject does not", p)
		case h != w:
			t.Errorf("%s differs from what go mod vendor writes:\nstartproject:\n%s\ngo mod vendor:\n%s", p, h, w)
		}
	}
	for p := range have {
		if _, ok := want[p]; !ok {
			t.Errorf("startproject writes %s; go mod vendor does not", p)
		}
	}
	if len(want) < 10 {
		t.Errorf("go mod vendor wrote only %d files: %v", len(want), want)
	}
}

// treeOf reads vendor/ and go.sum of the project at dir.
func treeOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(p == "go.sum" || strings.HasPrefix(p, "vendor/")) {
			return err
		}
		data, err := os.ReadFile(filepath.Join(dir, p))
		m[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
