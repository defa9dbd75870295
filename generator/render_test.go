package generator

import (
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/tools/txtar"
)

// txtarFS turns a txtar archive into a template; files named in exec get mode 0o755.
func txtarFS(t testing.TB, archive string, exec ...string) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, f := range txtar.Parse([]byte(archive)).Files {
		mode := fs.FileMode(0o644)
		for _, e := range exec {
			if e == f.Name {
				mode = 0o755
			}
		}
		fsys[f.Name] = &fstest.MapFile{Data: f.Data, Mode: mode}
	}
	return fsys
}

const smallTemplate = `
-- go.mod.tmpl --
module {{.Module}}

go {{.GoVersion}}
-- main.go.tmpl --
package main
import "fmt"
func main() {
fmt.Println({{.Name | quote}}, {{.SecretKey | quote}})
}
-- {{.Name}}.fcgi.tmpl --
#!/bin/sh
exec ./{{.Name}} runfcgi
-- run.sh --
echo plain {{.Name}}
-- static/style.css --
body { color: black }
-- testdata/bad.go --
package   bad
`

func render(t *testing.T, opts Options) map[string]File {
	t.Helper()
	files, _, err := Render(opts)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	m := make(map[string]File)
	for _, f := range files {
		m[f.Path] = f
	}
	return m
}

func TestRenderConventions(t *testing.T) {
	files := render(t, Options{
		Name:     "mysite",
		Module:   "example.com/mysite",
		Template: txtarFS(t, smallTemplate, "run.sh"),
		Rand:     SeededReader("test"),
	})
	tests := []struct {
		path     string
		mode     fs.FileMode
		contains string
	}{
		{"go.mod", 0o666, "module example.com/mysite\n\ngo 1.24\n"},
		{"main.go", 0o666, "\tfmt.Println(\"mysite\", "},
		{"mysite.fcgi", 0o777, "exec ./mysite runfcgi"},
		{"run.sh", 0o777, "echo plain {{.Name}}"}, // not .tmpl: copied as it is, executable from its source mode
		{"static/style.css", 0o666, "body { color: black }"},
		{"testdata/bad.go", 0o666, "package   bad"}, // testdata Go is left alone
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			f, ok := files[tt.path]
			if !ok {
				t.Fatalf("no file %s among %v", tt.path, keys(files))
			}
			if f.Mode != tt.mode {
				t.Errorf("mode %v, want %v", f.Mode, tt.mode)
			}
			if !strings.Contains(string(f.Data), tt.contains) {
				t.Errorf("content %q lacks %q", f.Data, tt.contains)
			}
		})
	}
	if len(files) != len(tests) {
		t.Errorf("rendered %v, want exactly the %d files above", keys(files), len(tests))
	}
	formatted, err := format.Source(files["main.go"].Data)
	if err != nil || !bytes.Equal(formatted, files["main.go"].Data) {
		t.Errorf("main.go is not gofmt-clean:\n%s", files["main.go"].Data)
	}
}

func keys(m map[string]File) []string {
	var k []string
	for p := range m {
		k = append(k, p)
	}
	return k
}

func TestRenderDefaultsModuleToName(t *testing.T) {
	files, data, err := Render(Options{Name: "blog", Template: txtarFS(t, smallTemplate)})
	if err != nil {
		t.Fatal(err)
	}
	if data.Module != "blog" || data.AppgenVersion != "devel" || data.RuntimeModule != RuntimeModule || data.RuntimeVersion != DevelRuntimeVersion {
		t.Errorf("data = %+v", data)
	}
	if len(data.SecretKey) != SecretKeyLength {
		t.Errorf("secret key %q has length %d, want %d", data.SecretKey, len(data.SecretKey), SecretKeyLength)
	}
	for _, f := range files {
		if f.Path == "go.mod" && !strings.HasPrefix(string(f.Data), "module blog\n") {
			t.Errorf("go.mod = %q", f.Data)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		template string
		want     string
		line     int // expected TemplateError.Line; -1 when not a TemplateError
	}{
		{name: "bad name", opts: Options{Name: "os"}, template: smallTemplate, want: `invalid project name "os"`, line: -1},
		{name: "bad module", opts: Options{Name: "mysite", Module: "a//b"}, template: smallTemplate, want: `invalid module path "a//b"`, line: -1},
		{name: "unknown field", opts: Options{Name: "mysite"}, template: "-- a.txt.tmpl --\nline one\n{{.Nope}}\n", want: "generator: template a.txt.tmpl:2: <.Nope>: can't evaluate field Nope", line: 2},
		{name: "parse error", opts: Options{Name: "mysite"}, template: "-- dir/b.txt.tmpl --\n\n\n{{if .Name}}\n", want: "generator: template dir/b.txt.tmpl:4: unexpected EOF", line: 4},
		{name: "unknown function", opts: Options{Name: "mysite"}, template: "-- c.tmpl --\n{{nosuch .Name}}\n", want: `generator: template c.tmpl:1: function "nosuch" not defined`, line: 1},
		{name: "bad Go", opts: Options{Name: "mysite"}, template: "-- x.go.tmpl --\npackage {{.Name}}\nfunc {\n", want: "generator: template x.go.tmpl: rendered Go does not parse", line: 0},
		{name: "bad path template", opts: Options{Name: "mysite"}, template: "-- {{.Nope}}.txt --\nx\n", want: "generator: template {{.Nope}}.txt:1: <.Nope>: can't evaluate field Nope", line: 1},
		{name: "path escapes", opts: Options{Name: "mysite"}, template: "-- {{\"..\"}}/x.txt --\nx\n", want: `renders to a path appgen will not write: unsafe path: "../x.txt" has a ".." element`, line: -1},
		{name: "two files one path", opts: Options{Name: "mysite"}, template: "-- mysite.txt --\na\n-- {{.Name}}.txt.tmpl --\nb\n", want: "both render to mysite.txt", line: -1},
		{name: "empty template", opts: Options{Name: "mysite"}, template: "", want: "the template holds no files", line: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Template = txtarFS(t, tt.template)
			_, _, err := Render(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Render error = %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			var te *TemplateError
			if errors.As(err, &te) != (tt.line >= 0) {
				t.Fatalf("error %v: TemplateError %v, want %v", err, te != nil, tt.line >= 0)
			}
			if te != nil && te.Line != tt.line {
				t.Errorf("line %d, want %d", te.Line, tt.line)
			}
		})
	}
}

// TestRenderVendorsRuntime pins go mod vendor's rules as Vendor applies them: only the
// packages the project (tests included) imports, directly or through each other; their
// non-test files, non-Go files included; no testdata or subfolders; files built only with
// "ignore" left out, other constraints kept; license files from the folders above; and
// modules.txt with the module's go version. TestVendorEqualsGoModVendor (internal/command)
// checks the same against the real go command.
func TestRenderVendorsRuntime(t *testing.T) {
	rt := fstest.MapFS{
		"go.mod":                        {Data: []byte("module github.com/appgen/appgen/runtime\n\ngo 1.24\n")},
		"LICENSE":                       {Data: []byte("license\n")},
		"sources.go":                    {Data: []byte("package appgenruntime\n")},
		"gateway/doc.go":                {Data: []byte("package gateway\n")},
		"gateway/gateway.go":            {Data: []byte("package gateway\n\nimport _ \"github.com/appgen/appgen/runtime/internal/wire\"\n")},
		"gateway/gateway_test.go":       {Data: []byte("package gateway\n\nimport _ \"github.com/appgen/appgen/runtime/testsupport/logbuf\"\n")},
		"gateway/gen.go":                {Data: []byte("//go:build ignore\n\npackage main\n")},
		"gateway/listen_unix.go":        {Data: []byte("//go:build !windows\n\npackage gateway\n")},
		"gateway/page.html":             {Data: []byte("<p>\n")},
		"gateway/testdata/fuzz/FuzzX/1": {Data: []byte("go test fuzz v1\n")},
		"internal/wire/wire.go":         {Data: []byte("package wire\n")},
		"manage/manage.go":              {Data: []byte("package manage\n")},
		"ajp/ajp.go":                    {Data: []byte("package ajp\n")},
		"testsupport/logbuf/logbuf.go":  {Data: []byte("package logbuf\n")},
	}
	tmpl := smallTemplate + "-- site/site_test.go --\npackage site\n\nimport _ \"github.com/appgen/appgen/runtime/manage\"\n" +
		"-- site/site.go --\npackage site\n\nimport _ \"github.com/appgen/appgen/runtime/gateway\"\n"
	files := render(t, Options{Name: "mysite", Template: txtarFS(t, tmpl), Runtime: &Runtime{Files: rt, Version: "v1.2.3"}})
	const v = "vendor/github.com/appgen/appgen/runtime/"
	want := map[string]string{
		"vendor/modules.txt": "# github.com/appgen/appgen/runtime v1.2.3\n## explicit; go 1.24\n" +
			"github.com/appgen/appgen/runtime/gateway\ngithub.com/appgen/appgen/runtime/internal/wire\ngithub.com/appgen/appgen/runtime/manage\n",
		v + "LICENSE":                "license\n",
		v + "gateway/doc.go":         "package gateway\n",
		v + "gateway/gateway.go":     "package gateway\n\nimport _ \"github.com/appgen/appgen/runtime/internal/wire\"\n",
		v + "gateway/listen_unix.go": "//go:build !windows\n\npackage gateway\n",
		v + "gateway/page.html":      "<p>\n",
		v + "internal/wire/wire.go":  "package wire\n",
		v + "manage/manage.go":       "package manage\n",
	}
	for p, f := range files {
		if !strings.HasPrefix(p, "vendor/") {
			continue
		}
		w, ok := want[p]
		if !ok {
			t.Errorf("unexpected vendored file %s", p)
			continue
		}
		if string(f.Data) != w || f.Mode != 0o666 {
			t.Errorf("%s = %q mode %v, want %q mode 0666", p, f.Data, f.Mode, w)
		}
		delete(want, p)
	}
	for p := range want {
		t.Errorf("missing vendored file %s", p)
	}
	if sum := string(files["go.sum"].Data); !strings.HasPrefix(sum, "github.com/appgen/appgen/runtime v1.2.3 h1:") ||
		!strings.Contains(sum, "\ngithub.com/appgen/appgen/runtime v1.2.3/go.mod h1:") {
		t.Errorf("go.sum = %q", sum)
	}

	for _, tt := range []struct{ name, tmpl, want string }{
		{"template writes vendor", "-- vendor/x.go --\npackage x\n", "where appgen writes the vendored runtime"},
		{"template writes go.sum", "-- go.sum --\n", "where appgen writes the vendored runtime"},
		{"missing package", "-- x.go --\npackage x\n\nimport _ \"github.com/appgen/appgen/runtime/nosuch\"\n", "imports github.com/appgen/appgen/runtime/nosuch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Render(Options{Name: "mysite", Runtime: &Runtime{Files: rt, Version: "v1.2.3"}, Template: txtarFS(t, tt.tmpl)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	for _, tt := range []struct {
		name string
		rt   Runtime
		want string
	}{
		{"bad version", Runtime{Files: rt, Version: "1.2"}, `runtime version "1.2"`},
		{"not the runtime module", Runtime{Files: fstest.MapFS{"go.mod": {Data: []byte("module github.com/appgen/appgen\n")}}, Version: "v1.0.0"}, `declares module "github.com/appgen/appgen"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Render(Options{Name: "mysite", Runtime: &tt.rt, Template: txtarFS(t, smallTemplate)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestRenderSorted(t *testing.T) {
	files, _, err := Render(Options{Name: "mysite", Template: txtarFS(t, smallTemplate)})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(files); i++ {
		if files[i-1].Path >= files[i].Path {
			t.Errorf("files not sorted: %s before %s", files[i-1].Path, files[i].Path)
		}
	}
}

func TestSecretKey(t *testing.T) {
	a1, err := SecretKey(SeededReader("a"))
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := SecretKey(SeededReader("a"))
	b, _ := SecretKey(SeededReader("b"))
	r1, _ := SecretKey(cryptoRand)
	r2, _ := SecretKey(cryptoRand)
	if a1 != a2 {
		t.Errorf("same seed gave %q and %q", a1, a2)
	}
	for _, pair := range [][2]string{{a1, b}, {r1, r2}} {
		if pair[0] == pair[1] {
			t.Errorf("two keys are equal: %q", pair[0])
		}
	}
	for _, k := range []string{a1, b, r1, r2} {
		if len(k) != SecretKeyLength {
			t.Errorf("key %q has length %d", k, len(k))
		}
		if i := strings.IndexFunc(k, func(r rune) bool { return !strings.ContainsRune(secretAlphabet, r) }); i >= 0 {
			t.Errorf("key %q has %q, outside the alphabet", k, k[i])
		}
	}
	if _, err := SecretKey(strings.NewReader("short")); err == nil || !strings.Contains(err.Error(), "secret key") {
		t.Errorf("SecretKey on a short reader: err = %v", err)
	}
}

func BenchmarkRenderSmallTemplate(b *testing.B) {
	tmpl := txtarFS(b, smallTemplate, "run.sh")
	for b.Loop() {
		if _, _, err := Render(Options{Name: "mysite", Template: tmpl}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRenderFormatted pins Options.Formatted: a template declared gofmt-clean is not
// formatted again (its Go is written as rendered), and without it the same file is.
func TestRenderFormatted(t *testing.T) {
	for _, tt := range []struct {
		formatted bool
		want      string
	}{
		{false, "func main() {\n\tfmt.Println("},
		{true, "func main() {\nfmt.Println("},
	} {
		t.Run(fmt.Sprint("Formatted=", tt.formatted), func(t *testing.T) {
			files := render(t, Options{Name: "mysite", Template: txtarFS(t, smallTemplate), Formatted: tt.formatted, Rand: SeededReader("test")})
			if got := string(files["main.go"].Data); !strings.Contains(got, tt.want) {
				t.Errorf("main.go = %q, want it to contain %q", got, tt.want)
			}
		})
	}
}
