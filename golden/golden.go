package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/diff"
	"golang.org/x/tools/txtar"
)

// update is the one -update flag of the golden tests; every test in the package uses it
// through CompareArchive, so there is never a second flag of that name.
var update = flag.Bool("update", false, "rewrite the golden files under testdata/ instead of comparing")

// Updating reports whether the tests run with -update.
func Updating() bool { return *update }

// CompareArchive compares have with the txtar archive at path, the comment first and then
// file by file, reporting each "missing file", "unexpected file" and a want/have diff of
// each file that differs. With -update it writes have to path instead. A file txtar cannot
// hold exactly (no final newline, or a line that looks like a file marker) fails the test,
// since the comparison would otherwise pass on a lossy copy.
func CompareArchive(t testing.TB, path string, have *txtar.Archive) {
	t.Helper()
	for _, f := range have.Files {
		if len(f.Data) > 0 && f.Data[len(f.Data)-1] != '\n' {
			t.Errorf("%s does not end in a newline; a txtar golden file cannot hold it exactly", f.Name)
		}
		if bytes.HasPrefix(f.Data, []byte("-- ")) || bytes.Contains(f.Data, []byte("\n-- ")) {
			t.Errorf("%s has a line starting with \"-- \"; a txtar golden file cannot hold it exactly", f.Name)
		}
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, txtar.Format(have), 0o666); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
		return
	}
	want, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./golden/... -update to create it)", err)
	}
	if d := diff.Diff("want comment", want.Comment, "have comment", have.Comment); d != nil {
		t.Errorf("%s: the comment differs:\n%s", path, d)
	}
	wantFiles := make(map[string][]byte, len(want.Files))
	for _, f := range want.Files {
		wantFiles[f.Name] = f.Data
	}
	for _, f := range have.Files {
		w, ok := wantFiles[f.Name]
		if !ok {
			t.Errorf("%s: unexpected file %s", path, f.Name)
			continue
		}
		delete(wantFiles, f.Name)
		if d := diff.Diff("want/"+f.Name, w, "have/"+f.Name, f.Data); d != nil {
			t.Errorf("%s: %s differs:\n%s", path, f.Name, d)
		}
	}
	for _, f := range want.Files {
		if _, missing := wantFiles[f.Name]; missing {
			t.Errorf("%s: missing file %s", path, f.Name)
		}
	}
	if t.Failed() {
		t.Logf("if the change is intended, run: go test ./golden/... -update, and review the diff of %s", strings.TrimPrefix(path, "./"))
	}
}
