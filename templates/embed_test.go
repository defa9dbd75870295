package templates_test

import (
	"bytes"
	"go/format"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"
	"text/template"

	"github.com/appgen/appgen/deploy"
	"github.com/appgen/appgen/generator"
	"github.com/appgen/appgen/internal/tmplfunc"
	"github.com/appgen/appgen/templates"
)

// TestProjectTemplatesParse parses every embedded project template on its own, so a
// broken one is named even if rendering stops earlier, and then renders the whole tree.
func TestProjectTemplatesParse(t *testing.T) {
	var n int
	err := fs.WalkDir(templates.Project, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".tmpl") {
			return err
		}
		n++
		t.Run(p, func(t *testing.T) {
			text, err := fs.ReadFile(templates.Project, p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := template.New(p).Funcs(tmplfunc.Map()).Option("missingkey=error").Parse(string(text)); err != nil {
				t.Error(err)
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("the project template holds no .tmpl files")
	}
	files, _, err := generator.Render(generator.Options{Name: "mysite", Template: templates.Project})
	if err != nil {
		t.Fatalf("rendering the project template: %v", err)
	}
	for _, want := range []string{"go.mod", "main.go", deploy.DeploySettingsFile} {
		if !slices.ContainsFunc(files, func(f generator.File) bool { return f.Path == want }) {
			t.Errorf("the project template renders no %s", want)
		}
	}
}

// TestProjectTemplateKeepsDotfiles pins the all: prefix of the embed: without it the
// project's .gitignore would silently vanish.
func TestProjectTemplateKeepsDotfiles(t *testing.T) {
	if _, err := fs.Stat(templates.Project, ".gitignore.tmpl"); err != nil {
		t.Errorf("templates.Project has no .gitignore.tmpl: %v", err)
	}
}

// TestProjectTemplateRendersFormatted is what lets startproject skip formatting the built-in
// template's Go (generator.Options.Formatted): rendered with short and long names and module
// paths (which sort before and after the runtime's imports), every .go file is already as
// gofmt prints it. A template edit that breaks this fails here, naming the file.
func TestProjectTemplateRendersFormatted(t *testing.T) {
	long := strings.Repeat("abcdefghij", 6)
	tests := []struct{ name, module string }{
		{"a", "a"},
		{"mysite", "example.com/mysite"},
		{"my_site", "aaa.example/my_site"},
		{long, "zzz.example.org/a/much/longer/module/path/than/usual/" + long},
	}
	for _, tt := range tests {
		t.Run(tt.module, func(t *testing.T) {
			files, _, err := generator.Render(generator.Options{Name: tt.name, Module: tt.module, Template: templates.Project, Formatted: true, Rand: generator.SeededReader(tt.name)})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, f := range files {
				if path.Ext(f.Path) != ".go" || slices.Contains(strings.Split(f.Path, "/"), "testdata") {
					continue
				}
				n++
				formatted, err := format.Source(f.Data)
				if err != nil {
					t.Errorf("%s does not parse: %v", f.Path, err)
					continue
				}
				if !bytes.Equal(formatted, f.Data) {
					t.Errorf("%s is not gofmt-clean; its template renders\n%s\ngofmt makes it\n%s", f.Path, firstDiff(f.Data, formatted), firstDiff(formatted, f.Data))
				}
			}
			if n == 0 {
				t.Fatal("the project template renders no Go files")
			}
		})
	}
}

// firstDiff returns the lines of a from the first one that differs from b, at most five.
func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range al {
		if i >= len(bl) || al[i] != bl[i] {
			return strings.Join(al[i:min(i+5, len(al))], "\n")
		}
	}
	return ""
}
