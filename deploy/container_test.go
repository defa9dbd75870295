package deploy

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestValidImage(t *testing.T) {
	digest := "@sha256:" + strings.Repeat("0f", 32)
	good := []string{"mysite", "mysite:latest", "mysite:1.2.0", "team/mysite:v1", "registry.example.com/team/mysite:1.2.0",
		"registry.example.com:5000/mysite:1.2.0", "localhost/mysite:dev", "mysite:1.2.0" + digest, "mysite" + digest, "a_b/e__f.g-h:T_1"}
	bad := []string{"", "MySite", "mysite:", "mysite:-x", "mysite:a b", "my site", "mysite:1\n", "mysite@sha256:abc",
		"mysite" + digest + "x", "mysite@md5:" + strings.Repeat("0", 32), "/mysite", "team//mysite", "mysite/", "mysite.:1",
		"mysite:" + strings.Repeat("a", 129), "registry.example.com:99999/mysite", "mysite:$(id)", "mysite;id", "-mysite", "mysite\"", "a..b"}
	for _, s := range good {
		if !ValidImage(s) {
			t.Errorf("ValidImage(%q) = false, want true", s)
		}
	}
	for _, s := range bad {
		if ValidImage(s) {
			t.Errorf("ValidImage(%q) = true, want false", s)
		}
	}
}

// FuzzValidImage checks what the image allow-list promises the quoting layer: an accepted
// reference is printable ASCII without anything YAML, JSON or a shell treat specially.
func FuzzValidImage(f *testing.F) {
	for _, s := range []string{"mysite:1.2.0", "registry.example.com:5000/team/mysite:1@sha256:" + strings.Repeat("a", 64), "a b", "x:${X}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !ValidImage(s) {
			return
		}
		if !ValidText(s) || strings.ContainsAny(s, " \"'\\$%`;#{}|&<>()*!,[]") {
			t.Fatalf("ValidImage accepted %q", s)
		}
		if q, err := yamlString(s); err != nil || q != `"`+s+`"` {
			t.Fatalf("yamlString(%q) = %s, %v", s, q, err)
		}
	})
}

func TestContainerFieldErrors(t *testing.T) {
	tests := []struct {
		name  string
		o     Options
		field string
	}{
		{"image", Options{Target: "kubernetes", Image: "My Site"}, "Image"},
		{"web image", Options{Target: "kubernetes", WebImage: "x:$y"}, "WebImage"},
		{"digest without a web image", Options{Target: "kubernetes", Image: "mysite@sha256:" + strings.Repeat("0", 64)}, "WebImage"},
		{"socket in /tmp", Options{Target: "kubernetes", Backends: []Backend{Unix("/tmp/mysite.sock")}}, "Backends"},
		{"socket above the binary", Options{Target: "kubernetes", Backends: []Backend{Unix("/srv/mysite.sock")}}, "Backends"},
		{"static files outside the project", Options{Target: "docker", StaticRoot: "/var/www/static"}, "StaticRoot"},
		{"two backends", Options{Target: "docker", Backends: []Backend{TCP("127.0.0.1", 1), TCP("127.0.0.1", 2)}}, "Backends"},
		{"ajp", Options{Target: "docker", Protocol: "ajp"}, "Protocol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(tt.o)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("Render = %v, want a *FieldError for %s", err, tt.field)
			}
		})
	}
	// A digest-pinned app image with its web image named is fine, and so is http without one.
	for _, o := range []Options{
		{Target: "kubernetes", Image: "mysite@sha256:" + strings.Repeat("0", 64), WebImage: "mysite-web:1"},
		{Target: "kubernetes", Protocol: "http", Image: "mysite@sha256:" + strings.Repeat("0", 64)},
	} {
		if _, err := Render(o); err != nil {
			t.Errorf("Render(%+v) = %v", o, err)
		}
	}
}

func TestSplitImage(t *testing.T) {
	for _, tt := range []struct{ ref, repo, tag string }{
		{"mysite", "mysite", "latest"},
		{"mysite:1.2", "mysite", "1.2"},
		{"registry.example.com:5000/mysite", "registry.example.com:5000/mysite", "latest"},
		{"registry.example.com:5000/mysite:v2", "registry.example.com:5000/mysite", "v2"},
	} {
		if repo, tag := splitImage(tt.ref); repo != tt.repo || tag != tt.tag {
			t.Errorf("splitImage(%q) = %q, %q; want %q, %q", tt.ref, repo, tag, tt.repo, tt.tag)
		}
	}
}

// FuzzContainerReaders checks that the Dockerfile and YAML readers never panic and write
// every entry as NAME/ARGS, and that the quoting functions' output reads back as one token.
func FuzzContainerReaders(f *testing.F) {
	for _, s := range []string{"plain", "a\"b", "a\\", "$X", "${X}", "a b", "a\nb", "[\"x\"]", "- a: \"b\"", "a: |\n  x;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, syn := range []*syntax{syntaxDockerfile, syntaxDockerignore, syntaxYAML} {
			list, err := directives(syn, s)
			if err != nil {
				continue
			}
			for _, d := range list {
				if syn != syntaxDockerignore && strings.IndexByte(d, '/') < 0 {
					t.Fatalf("%s(%q) gave %q: want NAME/ARGS", syn, s, list)
				}
			}
		}
		if q, err := yamlString(s); err == nil {
			have, err := directives(syntaxYAML, "name: "+q)
			if want := []string{"name/Q"}; err != nil || !slices.Equal(have, want) {
				t.Fatalf("yaml %q -> %s reads as %q, %v", s, q, have, err)
			}
		}
		if q, err := dockerEnv("A", s); err == nil {
			have, err := directives(syntaxDockerfile, "ENV "+q)
			if want := []string{"ENV/1"}; err != nil || !slices.Equal(have, want) {
				t.Fatalf("docker env %q -> %s reads as %q, %v", s, q, have, err)
			}
		}
		if q, err := dockerJSON([]string{"/bin/x", s}); err == nil {
			have, err := directives(syntaxDockerfile, "CMD "+q)
			if want := []string{"CMD/J2"}; err != nil || !slices.Equal(have, want) {
				t.Fatalf("docker json %q -> %s reads as %q, %v", s, q, have, err)
			}
		}
		if q, err := dockerWord(s); err == nil {
			have, err := directives(syntaxDockerfile, "WORKDIR "+q)
			if want := []string{"WORKDIR/1"}; err != nil || !slices.Equal(have, want) {
				t.Fatalf("docker word %q -> %s reads as %q, %v", s, q, have, err)
			}
		}
	})
}
