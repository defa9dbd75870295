package templates_test

import (
	"io/fs"
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
