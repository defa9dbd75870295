package upgrade

import (
	"bytes"
	"strings"
	"testing"

	"github.com/appgen/appgen/generator"
)

func sample() *Manifest {
	return &Manifest{
		Format: FormatVersion, AppgenVersion: "v1.0.0", Template: Template{Source: "default"},
		Options: Options{Name: "mysite", Module: "example.com/mysite", SecretKey: "abc$%^&*"},
		Runtime: Runtime{Module: generator.RuntimeModule, Version: "v1.0.0"},
		Files:   []File{{Path: "go.mod", SHA256: Hash([]byte("x")), Origin: "template"}, {Path: "deploy/nginx.conf", SHA256: Hash(nil), Origin: "config", Config: []string{"nginx"}}},
	}
}

func TestDecode(t *testing.T) {
	good := string(sample().Encode())
	if _, err := Decode([]byte(good)); err != nil {
		t.Fatalf("Decode(Encode(m)): %v", err)
	}
	tests := []struct{ name, from, to, want string }{
		{"format", `"format": 1`, `"format": 2`, "format 2, want 1"},
		{"name", `"name": "mysite"`, `"name": "os"`, "options.name"},
		{"module", `"module": "example.com/mysite"`, `"module": "-bad"`, "options.module"},
		{"secret key quote", `"secret_key": "abc$%^\u0026*"`, `"secret_key": "a\"b"`, "options.secret_key"},
		{"source", `"source": "default"`, `"source": "url"`, "template.source"},
		{"relative template path", `"source": "default"`, `"source": "directory", "path": "tmpl"`, "want an absolute path"},
		{"path escapes", `"path": "go.mod"`, `"path": "../go.mod"`, `file "../go.mod"`},
		{"vendor listed", `"path": "go.mod"`, `"path": "vendor/modules.txt"`, "are not listed"},
		{"hash", Hash([]byte("x")), "abc", "want 64 hex digits"},
		{"origin", `"origin": "template"`, `"origin": "web"`, `origin "web"`},
		{"config without args", `"config": [
        "nginx"
      ]`, `"config": []`, "without its config arguments"},
		{"unknown field", `"format": 1`, `"format": 1, "extra": true`, "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.from) {
				t.Fatalf("sample lacks %q:\n%s", tt.from, good)
			}
			_, err := Decode([]byte(strings.Replace(good, tt.from, tt.to, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestBaseArchive(t *testing.T) {
	files := []generator.File{{Path: "b/x.sh", Mode: 0o777, Data: []byte("#!/bin/sh\n")}, {Path: "a.txt", Mode: 0o666, Data: []byte("a\x00")}}
	arc := BaseArchive(files)
	if !bytes.Equal(arc, BaseArchive([]generator.File{files[1], files[0]})) {
		t.Error("BaseArchive depends on the order of files")
	}
	got, err := ReadBase(arc)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || string(got["a.txt"]) != "a\x00" || string(got["b/x.sh"]) != "#!/bin/sh\n" {
		t.Errorf("ReadBase = %q", got)
	}
	if _, err := ReadBase([]byte("not gzip")); err == nil {
		t.Error("ReadBase accepted garbage")
	}
}

// FuzzDecode: any bytes give a manifest or an error, and a decoded manifest encodes to
// one that decodes the same.
func FuzzDecode(f *testing.F) {
	f.Add(sample().Encode())
	f.Add([]byte(`{"format":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			return
		}
		again, err := Decode(m.Encode())
		if err != nil {
			t.Fatalf("Decode(Encode(m)): %v", err)
		}
		if !bytes.Equal(again.Encode(), m.Encode()) {
			t.Fatalf("Encode is not stable:\n%s\n%s", m.Encode(), again.Encode())
		}
	})
}
