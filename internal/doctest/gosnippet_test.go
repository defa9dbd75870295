package doctest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// goPrograms are the guides' Go blocks that are whole programs of a generated project, by
// file, with where the guide says they go. TestGoPrograms builds and vets each there.
var goPrograms = []struct{ page, path string }{
	{"docs/scgi.md", "cmd/scgi/main.go"},
	{"docs/ajp.md", "cmd/ajp/main.go"},
}

// TestGoPrograms builds the guides' example programs inside a project that `appgen
// startproject mysite` wrote (they called site.Application(), which the generated project
// no longer has, until issue 10's follow-up: a snippet nobody compiles rots).
func TestGoPrograms(t *testing.T) {
	dir := generatedProject(t)
	for _, g := range goPrograms {
		t.Run(g.page, func(t *testing.T) {
			blocks := guideBlocks(t, g.page, "go")
			if len(blocks) == 0 {
				t.Fatalf("%s has no go block", g.page)
			}
			file := filepath.Join(dir, filepath.FromSlash(g.path))
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte(blocks[0].Text), 0o644); err != nil {
				t.Fatal(err)
			}
			pkg := "./" + filepath.ToSlash(filepath.Dir(g.path))
			for _, args := range [][]string{{"build", "-o", os.DevNull, pkg}, {"vet", pkg}} {
				cmd := exec.Command("go", args...)
				cmd.Dir = dir
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("%s:%d as %s: go %v: %v\n%s", g.page, blocks[0].Line, g.path, args, err, out)
				}
			}
		})
	}
}
