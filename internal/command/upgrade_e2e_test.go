package command

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appgen/appgen/generator"
	"github.com/appgen/appgen/internal/modproxy"
)

// TestUpgradeRealProject is docs/upgrade.md's story with two real appgen binaries: v1.0.0
// built from this tree, v1.1.0 from a copy whose default template and runtime changed. A
// project made by v1.0.0 and edited by its user is upgraded by v1.1.0; then it builds, vets
// and tests offline (GOPROXY=off, an empty module cache), requires and vendors runtime
// v1.1.0 exactly as go mod vendor would, and a second upgrade has nothing to do. The
// project README's `go get …@vX && go mod vendor` gives the same vendor tree.
func TestUpgradeRealProject(t *testing.T) {
	if testing.Short() {
		t.Skip("builds appgen twice and a project: skipped with -short")
	}
	goBin := requireGo(t)
	root := repoRoot(t)
	tmp := t.TempDir()
	build := func(src, version string) string {
		bin := filepath.Join(tmp, "appgen-"+version)
		c := exec.Command(goBin, "build", "-o", bin, "-ldflags", "-X main.version="+version, ".")
		c.Dir = src
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("go build appgen %s: %v\n%s", version, err, out)
		}
		return bin
	}
	bin1 := build(root, "v1.0.0")

	next := filepath.Join(tmp, "next")
	copyTree(t, root, next)
	appendFile(t, filepath.Join(next, "templates", "project", "README.md.tmpl"), "\nNew in the next appgen: a section at the end.\n")
	if err := os.WriteFile(filepath.Join(next, "templates", "project", "NOTES.md"), []byte("Notes the next template adds.\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	appendFile(t, filepath.Join(next, "runtime", "manage", "doc.go"), "\n// The next runtime changes this comment.\n")
	bin2 := build(next, "v1.1.0")

	dir := filepath.Join(tmp, "work", "mysite")
	run := func(env []string, wantErr bool, name string, args ...string) string {
		t.Helper()
		c := exec.Command(name, args...)
		c.Dir, c.Env = dir, env
		out, err := c.CombinedOutput()
		if (err != nil) != wantErr {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out, err := exec.Command(bin1, "startproject", "mysite", dir).CombinedOutput(); err != nil {
		t.Fatalf("appgen v1.0.0 startproject: %v\n%s", err, out)
	}
	// The user's change: the first line of the README.
	readme := filepath.Join(dir, "README.md")
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(readme, []byte(strings.Replace(string(data), "# mysite\n", "# mysite, our site\n", 1)), 0o666)

	env := os.Environ()
	// docs/upgrade.md's block, in its order: look, then upgrade.
	if out := run(env, false, bin2, "upgrade", "--dry-run"); !strings.Contains(out, "added     NOTES.md\n") || !strings.Contains(out, "Dry run: nothing was written.") {
		t.Errorf("appgen upgrade --dry-run printed\n%s\nwant the plan and the dry-run line", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "NOTES.md")); !os.IsNotExist(err) {
		t.Errorf("appgen upgrade --dry-run wrote NOTES.md (Stat: %v)", err)
	}
	if out := run(env, false, bin2, "diff"); !strings.Contains(out, "+++ b/NOTES.md\n") {
		t.Errorf("appgen diff printed\n%s\nwant the diff adding NOTES.md", out)
	}
	out := run(env, false, bin2, "upgrade")
	for _, want := range []string{"added     NOTES.md\n", "merged    README.md\n", "updated   vendor/, go.sum (runtime v1.0.0 → v1.1.0: "} {
		if !strings.Contains(out, want) {
			t.Errorf("appgen upgrade printed\n%s\nwant a line %q", out, want)
		}
	}
	readmeNow, _ := os.ReadFile(readme)
	if !strings.Contains(string(readmeNow), "# mysite, our site\n") || !strings.Contains(string(readmeNow), "New in the next appgen") {
		t.Errorf("README.md after the upgrade lacks the user's or the template's change:\n%s", readmeNow)
	}
	if out := run(env, false, bin2, "upgrade"); !strings.Contains(out, "\nNothing to upgrade") || strings.Contains(out, "updated") {
		t.Errorf("a second upgrade printed\n%s", out)
	}

	modcache := t.TempDir()
	offline := append(os.Environ(), "GOPROXY=off", "GOMODCACHE="+modcache, "GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local")
	t.Cleanup(func() {
		c := exec.Command(goBin, "clean", "-modcache")
		c.Env = offline
		c.Run()
	})
	run(offline, false, goBin, "build", "./...")
	run(offline, false, goBin, "vet", "./...")
	run(offline, false, goBin, "test", "./...")
	if out := run(offline, false, goBin, "list", "-m", generator.RuntimeModule); out != generator.RuntimeModule+" v1.1.0\n" {
		t.Errorf("go list -m = %q, want v1.1.0", out)
	}
	checkVendorIsModule(t, goBin, dir, filepath.Join(next, "runtime"), "v1.1.0")

	// Once v1.1.0 is published, the README's command does the runtime's part by hand.
	proxy := t.TempDir()
	for v, src := range map[string]string{"v1.0.0": root, "v1.1.0": next} {
		if err := modproxy.Add(proxy, generator.RuntimeModule, v, filepath.Join(src, "runtime")); err != nil {
			t.Fatal(err)
		}
	}
	byHand := filepath.Join(tmp, "work", "byhand")
	if out, err := exec.Command(bin1, "startproject", "mysite", byHand).CombinedOutput(); err != nil {
		t.Fatalf("appgen v1.0.0 startproject: %v\n%s", err, out)
	}
	viaProxy := append(os.Environ(), "GOPROXY="+modproxy.URL(proxy), "GOMODCACHE="+modcache, "GOFLAGS=",
		"GONOSUMDB="+generator.RuntimeModule, "GOWORK=off", "GOTOOLCHAIN=local")
	c := exec.Command("sh", "-c", "go get "+generator.RuntimeModule+"@v1.1.0 && go mod vendor")
	c.Dir, c.Env = byHand, viaProxy
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("go get && go mod vendor: %v\n%s", err, out)
	}
	have, want := treeOf(t, dir), treeOf(t, byHand)
	// go get also keeps the go.mod hash of the version it left (MVS read it); every line
	// upgrade writes must be there.
	for _, line := range strings.SplitAfter(have["go.sum"], "\n") {
		if !strings.Contains(want["go.sum"], line) {
			t.Errorf("go.sum after upgrade has %q; after go get:\n%s", line, want["go.sum"])
		}
	}
	delete(have, "go.sum")
	delete(want, "go.sum")
	for p := range want {
		if have[p] != want[p] {
			t.Errorf("%s: appgen upgrade and go get && go mod vendor differ", p)
		}
	}
	if len(have) != len(want) {
		t.Errorf("appgen upgrade wrote %d vendor files, go get && go mod vendor %d", len(have), len(want))
	}
}

// copyTree copies the regular files of src to dst, without .git.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == ".git" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o777)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, name, text string) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
