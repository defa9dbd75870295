package generator

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

var sampleFiles = []File{
	{Path: "go.mod", Mode: 0o666, Data: []byte("module mysite\n")},
	{Path: "mysite.fcgi", Mode: 0o777, Data: []byte("#!/bin/sh\n")},
	{Path: "settings/settings.go", Mode: 0o666, Data: []byte("package settings\n")},
	{Path: "site/views.go", Mode: 0o666, Data: []byte("package site\n")},
	{Path: "static/css/site.css", Mode: 0o666, Data: []byte("body{}\n")},
}

// tree lists every path under dir (slash-separated, directories with a trailing slash).
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, rel)
		return nil
	})
	return out
}

func TestWrite(t *testing.T) {
	mask := fs.FileMode(syscall.Umask(0o027))
	defer syscall.Umask(int(mask))
	tests := []struct {
		name  string
		setup func(t *testing.T) string // returns the target
		keep  []string                  // entries present before that must survive
	}{
		{name: "missing target", setup: func(t *testing.T) string { return filepath.Join(t.TempDir(), "mysite") }},
		{name: "missing parents", setup: func(t *testing.T) string { return filepath.Join(t.TempDir(), "a", "b", "mysite") }},
		{name: "empty target", setup: func(t *testing.T) string {
			d := filepath.Join(t.TempDir(), "mysite")
			os.Mkdir(d, 0o755)
			return d
		}},
		{name: "target holding only .git", keep: []string{".git/", ".git/HEAD"}, setup: func(t *testing.T) string {
			d := filepath.Join(t.TempDir(), "mysite")
			os.MkdirAll(filepath.Join(d, ".git"), 0o755)
			os.WriteFile(filepath.Join(d, ".git", "HEAD"), []byte("ref: refs/heads/main\n"), 0o644)
			return d
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.setup(t)
			if err := Write(context.Background(), dir, sampleFiles); err != nil {
				t.Fatal(err)
			}
			want := append([]string{"go.mod", "mysite.fcgi", "settings/", "settings/settings.go", "site/", "site/views.go", "static/", "static/css/", "static/css/site.css"}, tt.keep...)
			slices.Sort(want)
			if got := tree(t, dir); !slices.Equal(got, want) {
				t.Errorf("tree = %v, want %v", got, want)
			}
			for _, f := range sampleFiles {
				p := filepath.Join(dir, filepath.FromSlash(f.Path))
				data, err := os.ReadFile(p)
				if err != nil || string(data) != string(f.Data) {
					t.Errorf("%s = %q, %v; want %q", f.Path, data, err, f.Data)
				}
				info, _ := os.Stat(p)
				if want := f.Mode &^ 0o027; info.Mode().Perm() != want {
					t.Errorf("%s mode %v, want %v (umask 027)", f.Path, info.Mode().Perm(), want)
				}
			}
			for _, d := range []string{dir, filepath.Join(dir, "settings"), filepath.Join(dir, "static", "css")} {
				info, _ := os.Stat(d)
				if tt.name != "empty target" && tt.name != "target holding only .git" || d != dir {
					if info.Mode().Perm() != 0o750 {
						t.Errorf("directory %s mode %v, want 0750 (umask 027)", d, info.Mode().Perm())
					}
				}
			}
			if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".appgen-*")); len(leftovers) > 0 {
				t.Errorf("staging left behind: %v", leftovers)
			}
		})
	}
}

func TestWriteRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{name: "non-empty", setup: func(t *testing.T, dir string) {
			os.Mkdir(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
		}, want: "exists and is non-empty (it holds notes.txt)"},
		{name: "a file", setup: func(t *testing.T, dir string) {
			os.WriteFile(dir, []byte("mine"), 0o644)
		}, want: "is a file, want a directory"},
		{name: "file in .git it would write", setup: func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, ".git"), 0o755)
			os.WriteFile(filepath.Join(dir, ".git", "info"), []byte("mine"), 0o644)
		}, want: "already holds .git/info"},
	}
	files := append(slices.Clone(sampleFiles), File{Path: ".git/info", Mode: 0o666, Data: []byte("theirs")})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "mysite")
			tt.setup(t, dir)
			before := tree(t, filepath.Dir(dir))
			err := Write(context.Background(), dir, files)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrTargetExists) {
				t.Fatalf("Write = %v, want ErrTargetExists containing %q", err, tt.want)
			}
			if after := tree(t, filepath.Dir(dir)); !slices.Equal(before, after) {
				t.Errorf("tree changed from %v to %v", before, after)
			}
		})
	}
}

// cancelAfter is a context whose Err turns to context.Canceled after n calls: Write checks
// it between files, so this interrupts it at a chosen point, as SIGINT would. The count is
// atomic because Write's file writers check it from several goroutines, as they may a real
// context.
type cancelAfter struct {
	context.Context
	n *atomic.Int64
}

func (c cancelAfter) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestWriteInterrupted pins the rule that an interrupted startproject leaves nothing: it
// cancels Write at every point it checks, for each kind of target.
func TestWriteInterrupted(t *testing.T) {
	kinds := []struct {
		name  string
		setup func(t *testing.T, dir string)
	}{
		{"missing target and parent", func(t *testing.T, dir string) {}},
		{"empty target", func(t *testing.T, dir string) { os.MkdirAll(dir, 0o755) }},
		{"target holding .git", func(t *testing.T, dir string) { os.MkdirAll(filepath.Join(dir, ".git"), 0o755) }},
	}
	for _, k := range kinds {
		for point := 0; ; point++ {
			root := t.TempDir()
			dir := filepath.Join(root, "parent", "mysite")
			k.setup(t, dir)
			before := tree(t, root)
			var n atomic.Int64
			n.Store(int64(point))
			err := Write(cancelAfter{context.Background(), &n}, dir, sampleFiles)
			if err == nil {
				if point == 0 {
					t.Fatalf("%s: Write never checked for cancellation", k.name)
				}
				break // every check point has been tried
			}
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%s, cancelled at check %d: %v", k.name, point, err)
			}
			if after := tree(t, root); !slices.Equal(before, after) {
				t.Errorf("%s, cancelled at check %d: tree went from %v to %v", k.name, point, before, after)
			}
		}
	}
}

// TestWriteRollsBackOnFailure makes the second top-level move fail (a directory appears
// where a staged file goes) and checks the first move is taken back.
func TestWriteRollsBackOnFailure(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, ".git"), 0o755)
	files := []File{
		{Path: "a.txt", Mode: 0o666, Data: []byte("a")},
		{Path: "b.txt", Mode: 0o666, Data: []byte("b")},
	}
	// CheckTarget passes; then b.txt appears before the moves, as if another program
	// created it while appgen was writing. Write's file writers call Err from several
	// goroutines, once per file, so the count is atomic.
	var n atomic.Int64
	ctx := hookContext{Context: context.Background(), hook: func() {
		if n.Add(1) == int64(len(files))+1 {
			os.WriteFile(filepath.Join(dir, "b.txt"), []byte("theirs"), 0o644)
		}
	}}
	err := Write(ctx, dir, files)
	if err == nil || !errors.Is(err, ErrTargetExists) || !strings.Contains(err.Error(), "appeared while writing") {
		t.Fatalf("Write = %v, want an 'appeared while writing' error", err)
	}
	if got := tree(t, dir); !slices.Equal(got, []string{".git/", "b.txt"}) {
		t.Errorf("tree = %v, want only .git and the other program's b.txt", got)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "b.txt")); string(data) != "theirs" {
		t.Errorf("b.txt = %q: the other program's file was overwritten", data)
	}
}

type hookContext struct {
	context.Context
	hook func()
}

func (h hookContext) Err() error {
	h.hook()
	return nil
}
