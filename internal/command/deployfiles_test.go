package command

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/appgen/appgen/generator"
	"github.com/appgen/appgen/templates"
)

// withDeployFiles must leave its input alone. It appended to it and sorted the result in
// place, so when the rendered files' slice had spare capacity (it did once the runtime had
// three more files) the slice startproject kept to compare with came back holding deploy
// files, and the manifest recorded every deploy file as "template": appgen upgrade then
// removed them all.
func TestWithDeployFilesKeepsItsInput(t *testing.T) {
	rt := &generator.Runtime{Files: os.DirFS(filepath.Join(repoRoot(t), "runtime")), Version: generator.DevelRuntimeVersion}
	rendered, _, err := generator.Render(generator.Options{Name: "mysite", Template: templates.Project, Runtime: rt})
	if err != nil {
		t.Fatal(err)
	}
	spare := append(make([]generator.File, 0, len(rendered)+64), rendered...)
	before := make([]string, len(spare))
	for i, f := range spare {
		before[i] = f.Path
	}
	all, _, err := withDeployFiles(spare, "/srv/mysite", "test")
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range spare {
		if f.Path != before[i] {
			t.Fatalf("the input's file %d is %s after withDeployFiles, was %s", i, f.Path, before[i])
		}
	}
	origins := deployOrigins(spare, all)
	var deployFiles int
	for _, f := range all {
		if strings.HasPrefix(f.Path, "deploy/") {
			deployFiles++
			if origins[f.Path] != "deploy" {
				t.Errorf("%s: origin %q, want deploy", f.Path, origins[f.Path])
			}
		}
	}
	if deployFiles == 0 || !slices.IsSortedFunc(all, func(a, b generator.File) int { return strings.Compare(a.Path, b.Path) }) {
		t.Errorf("withDeployFiles added %d deploy/ files, sorted %v; want some, sorted", deployFiles, slices.IsSortedFunc(all, func(a, b generator.File) int { return strings.Compare(a.Path, b.Path) }))
	}
}
