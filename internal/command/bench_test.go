package command

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/appgen/appgen/generator"
	"github.com/appgen/appgen/templates"
)

// The benchmarks compare `appgen startproject` with `django-admin startproject`, the command
// it is modelled on; docs/startproject.md reports them as ratios from one run:
//
//	go test ./internal/command -run '^$' -bench Startproject -count 5
//
// RenderDefault is the in-memory part alone (templates, formatting, runtime bundle,
// deploy files); Startproject adds writing the tree; the Process variants time a whole
// command, process start-up included, which is what a user waits for.

// memRuntime loads runtime/ into memory, as the binary's embedded copy is.
func memRuntime(b *testing.B) fs.FS {
	b.Helper()
	src := os.DirFS(filepath.Join(repoRoot(b), "runtime"))
	m := fstest.MapFS{}
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(src, p)
		m[p] = &fstest.MapFile{Data: data, Mode: 0o644}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkRenderDefault(b *testing.B) {
	rt := memRuntime(b)
	for b.Loop() {
		files, _, err := generator.Render(generator.Options{Name: "mysite", Template: templates.Project, Runtime: &generator.Runtime{Files: rt, Version: generator.DevelRuntimeVersion}})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := withDeployFiles(files, "/srv/mysite", "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStartprojectInProcess(b *testing.B) {
	root := repoRoot(b)
	parent := b.TempDir()
	i := 0
	for b.Loop() {
		i++
		var out bytes.Buffer
		dir := filepath.Join(parent, fmt.Sprint(i))
		if status := Execute(Build{Version: "bench"}, os.DirFS(filepath.Join(root, "runtime")), []string{"appgen", "startproject", "mysite", dir}, &out, &out); status != 0 {
			b.Fatalf("status %d: %s", status, out.String())
		}
	}
}

func BenchmarkStartprojectProcess(b *testing.B) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		b.Skip("go is not in PATH")
	}
	bin := filepath.Join(b.TempDir(), "appgen")
	build := exec.Command(goBin, "build", "-o", bin, ".")
	build.Dir = repoRoot(b)
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	benchProcess(b, bin, "startproject", "mysite")
}

func BenchmarkDjangoStartprojectProcess(b *testing.B) {
	django, err := exec.LookPath("django-admin")
	if err != nil {
		b.Skip("django-admin is not installed (Debian: apt-get install python3-django)")
	}
	benchProcess(b, django, "startproject", "mysite")
}

// benchProcess runs PROG ARGS... DIR once per iteration, each time into a new directory.
func benchProcess(b *testing.B, prog string, args ...string) {
	parent := b.TempDir()
	i := 0
	for b.Loop() {
		i++
		dir := filepath.Join(parent, fmt.Sprint(i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		c := exec.Command(prog, append(args, dir)...)
		if out, err := c.CombinedOutput(); err != nil {
			b.Fatalf("%s: %v\n%s", prog, err, out)
		}
	}
}
