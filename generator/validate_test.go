package generator

import (
	"errors"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name    string
		wantErr string // "" means valid
	}{
		{"mysite", ""},
		{"my_site", ""},
		{"site2", ""},
		{"blog_v2", ""},
		{"", "the name is empty"},
		{"MySite", `must start with a lower-case letter`},
		{"mySite", `character 'S' is not allowed`},
		{"1site", "must start with a lower-case letter"},
		{"_site", "must start with a lower-case letter"},
		{"my-site", `character '-' is not allowed`},
		{"my.site", `character '.' is not allowed`},
		{"café", `character 'é' is not allowed`},
		{"func", "is a Go keyword"},
		{"package", "is a Go keyword"},
		{"string", "is a predeclared Go identifier"},
		{"len", "is a predeclared Go identifier"},
		{"nil", "is a predeclared Go identifier"},
		{"os", "standard library package"},
		{"http", "standard library package"},
		{"fmt", "standard library package"},
		{"runtime", "standard library package"},
		{"template", "standard library package"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateName(tt.name)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateName(%q) = %v, want nil", tt.name, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ValidateName(%q) = %v, want an error containing %q", tt.name, err, tt.wantErr)
			}
			if !errors.Is(err, ErrInvalidName) {
				t.Errorf("ValidateName(%q) error does not wrap ErrInvalidName", tt.name)
			}
			if !strings.HasPrefix(err.Error(), "generator: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestValidateModule(t *testing.T) {
	tests := []struct {
		path    string
		wantErr string
	}{
		{"mysite", ""},
		{"example.com/mysite", ""},
		{"example.com/me/mysite/v2", ""},
		{"github.com/me/my-site", ""},
		{"corp/internal/site", ""},
		{"", "the module path is empty"},
		{"/mysite", "empty path element"},
		{"example.com/mysite/", "trailing slash"},
		{"example.com//mysite", "double slash"},
		{"example.com/my site", "invalid char"},
		{"example.com/../x", "invalid path element"},
		{"Example.com/mysite", "invalid char"},
		{"example.com/mysite/v1", "invalid version"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			err := ValidateModule(tt.path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateModule(%q) = %v, want nil", tt.path, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ValidateModule(%q) = %v, want an error containing %q", tt.path, err, tt.wantErr)
			}
			if !errors.Is(err, ErrInvalidModule) {
				t.Errorf("error does not wrap ErrInvalidModule")
			}
			if strings.Count(err.Error(), tt.path) > 1 && tt.path != "" {
				t.Errorf("error %q names the path more than once", err)
			}
		})
	}
}

// TestStdlibListIsCurrent fails when stdlib.txt no longer matches the toolchain's
// standard library: run `go generate ./generator` after a Go upgrade.
func TestStdlibListIsCurrent(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("go not found in PATH; CI needs the toolchain to check stdlib.txt")
		}
		t.Skip("go not found in PATH")
	}
	out, err := exec.Command(goBin, "list", "std").Output()
	if err != nil {
		t.Fatalf("go list std: %v", err)
	}
	var want []string
	for _, p := range strings.Fields(string(out)) {
		if n, ok := stdPackageName(p); ok {
			want = append(want, n)
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	have := strings.Fields(stdlibText)
	if !slices.Equal(have, want) {
		for _, n := range want {
			if !slices.Contains(have, n) {
				t.Errorf("stdlib.txt lacks %q", n)
			}
		}
		for _, n := range have {
			if !slices.Contains(want, n) {
				t.Errorf("stdlib.txt has %q, which go list std no longer lists", n)
			}
		}
		t.Fatal("stdlib.txt is stale: run go generate ./generator")
	}
}

func TestStdPackageName(t *testing.T) {
	tests := []struct {
		path string
		want string
		ok   bool
	}{
		{"net/http", "http", true},
		{"os", "os", true},
		{"internal/abi", "", false},
		{"crypto/internal/fips140", "", false},
		{"vendor/golang.org/x/net/http2/hpack", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, ok := stdPackageName(tt.path)
			if got != tt.want || ok != tt.ok {
				t.Errorf("stdPackageName(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"mysite", "os", "func", "My", "a_1", "", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if ValidateName(name) != nil {
			return
		}
		// Whatever is accepted must be usable as a directory, a module path and a Go
		// identifier that shadows nothing.
		if err := ValidateModule(name); err != nil {
			t.Errorf("accepted name %q is not a valid module path: %v", name, err)
		}
		if name != strings.ToLower(name) || IsStdlibName(name) {
			t.Errorf("accepted name %q", name)
		}
	})
}

// TestPredeclaredIsCurrent: the list ValidateName uses instead of go/types (whose init
// every command would pay) must name exactly Go's universe scope.
func TestPredeclaredIsCurrent(t *testing.T) {
	for _, name := range types.Universe.Names() {
		if token.IsExported(name) || name == "unsafe" {
			continue // Universe holds no exported names today; unsafe is a package
		}
		if !predeclared[name] {
			t.Errorf("predeclared lacks %q, a name in go/types.Universe", name)
		}
	}
	for name := range predeclared {
		if types.Universe.Lookup(name) == nil {
			t.Errorf("predeclared has %q, which is not in go/types.Universe", name)
		}
	}
}
