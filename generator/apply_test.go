package generator

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		m[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func seedTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for p, s := range map[string]string{"a.txt": "a\n", "sub/b.txt": "b\n", "gone.txt": "gone\n"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o777)
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestApply(t *testing.T) {
	dir := seedTree(t)
	err := Apply(context.Background(), dir, []File{{Path: "a.txt", Mode: 0o666, Data: []byte("A\n")}, {Path: "new/c.txt", Mode: 0o666, Data: []byte("c\n")}}, []string{"gone.txt"})
	if err != nil {
		t.Fatal(err)
	}
	have := readTree(t, dir)
	want := map[string]string{"a.txt": "A\n", "sub/b.txt": "b\n", "new/c.txt": "c\n"}
	if len(have) != len(want) {
		t.Errorf("tree = %v, want %v", have, want)
	}
	for p, s := range want {
		if have[p] != s {
			t.Errorf("%s = %q, want %q", p, have[p], s)
		}
	}
}

// TestApplyRollsBack: a change that fails half-way (a file cannot replace a directory) and a
// cancelled one leave the tree exactly as it was, with no work folder.
func TestApplyRollsBack(t *testing.T) {
	t.Run("failure", func(t *testing.T) {
		dir := seedTree(t)
		before := readTree(t, dir)
		err := Apply(context.Background(), dir, []File{{Path: "a.txt", Mode: 0o666, Data: []byte("A\n")}, {Path: "sub", Mode: 0o666, Data: []byte("x")}}, []string{"gone.txt"})
		if err == nil {
			t.Fatal("Apply replaced a directory with a file")
		}
		checkSame(t, dir, before)
	})
	t.Run("cancelled", func(t *testing.T) {
		dir := seedTree(t)
		before := readTree(t, dir)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := Apply(ctx, dir, []File{{Path: "a.txt", Mode: 0o666, Data: []byte("A\n")}}, nil); err == nil {
			t.Fatal("a cancelled Apply succeeded")
		}
		checkSame(t, dir, before)
	})
	t.Run("crash after the journal", func(t *testing.T) {
		dir := seedTree(t)
		before := readTree(t, dir)
		// What a process killed half-way leaves: the journal, a.txt replaced, new file added.
		work := filepath.Join(dir, ApplyDir)
		os.MkdirAll(filepath.Join(work, "old"), 0o700)
		os.Link(filepath.Join(dir, "a.txt"), filepath.Join(work, "old", "a.txt"))
		os.WriteFile(filepath.Join(work, "journal"), []byte("R a.txt\nA added.txt\nD gone.txt\n"), 0o600)
		os.Link(filepath.Join(dir, "gone.txt"), filepath.Join(work, "old", "gone.txt"))
		os.Remove(filepath.Join(dir, "a.txt"))
		os.WriteFile(filepath.Join(dir, "a.txt"), []byte("half\n"), 0o666)
		os.WriteFile(filepath.Join(dir, "added.txt"), []byte("x\n"), 0o666)
		done, err := Recover(dir)
		if err != nil || !done {
			t.Fatalf("Recover = %v, %v", done, err)
		}
		checkSame(t, dir, before)
	})
}

func checkSame(t *testing.T, dir string, before map[string]string) {
	t.Helper()
	after := readTree(t, dir)
	if len(after) != len(before) {
		t.Errorf("tree = %v, want %v", after, before)
	}
	for p, s := range before {
		if after[p] != s {
			t.Errorf("%s = %q, want %q as before", p, after[p], s)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, ApplyDir)); err == nil {
		t.Errorf("%s left behind", ApplyDir)
	}
}
