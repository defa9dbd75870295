package manage

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/appgen/appgen/runtime/runfcgi"
	"github.com/appgen/appgen/runtime/testsupport/logbuf"
)

// strongKey is 50 characters drawn at random.
const strongKey = "q8Xv2LmZ0rT7wK4pN1cY6hB9sD3fJ5gA-eU_iO+tR=yW!kE@uV"

const generatedKey = "appgen-generated-x7Rk2Pq9Lm4Vt8Wz1Yb6Nc3Hd5Jf0Gs-_+="

func TestWeakSecretKey(t *testing.T) {
	tests := []struct {
		name, key, why string
	}{
		{"random", strongKey, ""},
		{"hex, 64", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ""},
		{"short", "abc", "3 characters, want at least 50"},
		{"49", strongKey[:49], "49 characters"},
		// Issue 14 §6: Django's rule (50 characters, 5 different) passes this one.
		{"abcde ten times", strings.Repeat("abcde", 10), "5 different characters, want at least 10"},
		{"ten characters repeated", strings.Repeat("0123456789", 5), "it repeats its first 10 characters"},
		{"repeat cut short", strings.Repeat("abcdefghijkl", 5)[:55], "it repeats its first 12 characters"},
		{"one letter", strings.Repeat("a", 60), "1 different characters"},
		{"multibyte counts characters", strings.Repeat("é", 49), "49 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := WeakSecretKey(tt.key)
			if (tt.why == "") != (got == "") || !strings.Contains(got, tt.why) {
				t.Errorf("WeakSecretKey(%q) = %q, want %q", tt.key, got, tt.why)
			}
		})
	}
}

func FuzzWeakSecretKey(f *testing.F) {
	for _, s := range []string{"", "abc", strongKey, strings.Repeat("abcde", 10), strings.Repeat("0123456789", 5), "aXa"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		why := WeakSecretKey(key)
		if len(key) >= 8 && strings.Contains(why, key) {
			t.Fatalf("WeakSecretKey quotes the key: %q", why)
		}
		if why == "" {
			distinct := map[rune]bool{}
			for _, r := range key {
				distinct[r] = true
			}
			if len([]rune(key)) < minSecretKeyLength || len(distinct) < minSecretKeyDistinct {
				t.Fatalf("WeakSecretKey(%q) passed a key under the limits", key)
			}
			// No shorter string repeated makes the key.
			for p := 1; p*2 <= len(key); p++ {
				if key == strings.Repeat(key[:p], len(key)/p+1)[:len(key)] {
					t.Fatalf("WeakSecretKey(%q) passed a repeat of %q", key, key[:p])
				}
			}
		}
	})
}

func TestDeployCheck(t *testing.T) {
	good := Deploy{SecretKey: strongKey, GeneratedSecretKey: generatedKey, AllowedHosts: []string{"www.example.com"}}
	tests := []struct {
		name string
		edit func(d *Deploy)
		want []string // IDs, in order
	}{
		{"fit for production", func(d *Deploy) {}, nil},
		{"Debug on", func(d *Deploy) { d.Debug = true }, []string{"deploy.E001"}},
		{"no key", func(d *Deploy) { d.SecretKey = "" }, []string{"deploy.E002"}},
		{"the generated key", func(d *Deploy) { d.SecretKey = generatedKey }, []string{"deploy.E003"}},
		{"a weak key (issue 14 §6)", func(d *Deploy) { d.SecretKey = strings.Repeat("abcde", 10) }, []string{"deploy.E004"}},
		{"no hosts", func(d *Deploy) { d.AllowedHosts = nil }, []string{"deploy.E005"}},
		{"wildcard host (issue 14 §6)", func(d *Deploy) { d.AllowedHosts = []string{"www.example.com", "*"} }, []string{"deploy.W001"}},
		{"errors before warnings", func(d *Deploy) { d.AllowedHosts = []string{"*"}; d.Debug = true }, []string{"deploy.E001", "deploy.W001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := good
			tt.edit(&d)
			var ids []string
			for _, p := range d.Check() {
				ids = append(ids, p.ID)
				if strings.Contains(p.Msg, d.SecretKey) && d.SecretKey != "" {
					t.Errorf("%s quotes the secret key", p.ID)
				}
				if (p.Level == Warning) != strings.Contains(p.ID, ".W") {
					t.Errorf("%s has level %v", p.ID, p.Level)
				}
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.want) {
				t.Errorf("Check() = %v, want %v", ids, tt.want)
			}
		})
	}
}

// TestCheckDeploy pins issue 14 §6's "check passes production with APPGEN_ALLOWED_HOSTS='*'
// and a key like abcde×10": check --deploy fails on both, plain check keeps its meaning.
func TestCheckDeploy(t *testing.T) {
	prod := &Deploy{SecretKey: strings.Repeat("abcde", 10), AllowedHosts: []string{"*"}}
	tests := []struct {
		name   string
		args   []string
		deploy *Deploy
		status int
		out    string // fragments, "|"-separated, of stdout+stderr
	}{
		{"check alone", []string{"check"}, prod, ExitOK, "System check identified no issues."},
		{"weak key and wildcard", []string{"check", "--deploy"}, prod, ExitError,
			"deploy.E004 (error): SecretKey is weak: 5 different characters|deploy.W001 (warning): AllowedHosts has \"*\"|System check identified 2 issues."},
		{"fit", []string{"check", "--deploy"}, &Deploy{SecretKey: strongKey, AllowedHosts: []string{"example.com"}}, ExitOK, "System check identified no issues."},
		{"no Deploy", []string{"check", "--deploy"}, nil, ExitError, "deploy.E000 (error): the project passes no deployment settings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out logbuf.Buffer
			status := Main(tt.args, Site{Name: "mysite", Handler: hello(), Deploy: tt.deploy, Stdout: &out, Stderr: &out})
			if status != tt.status {
				t.Errorf("Main(%q) = %d, want %d; output:\n%s", tt.args, status, tt.status, out.String())
			}
			checkOutput(t, "output", out.String(), tt.out)
			if strings.Contains(out.String(), "abcdeabcde") {
				t.Errorf("output quotes the secret key:\n%s", out.String())
			}
		})
	}
}

// TestRunfcgiPreflight pins issue 14 §6's "runfcgi starts production without running the
// checks" and issue 10's "runfcgi warns when it serves the development profile as a daemon".
func TestRunfcgiPreflight(t *testing.T) {
	settingsProblem := func() []error { return []error{errors.New("settings: StaticRoot is empty")} }
	tests := []struct {
		name     string
		site     Site
		opts     runfcgi.Options
		err      string // fragments of the error, "" for none
		warnings string // fragments of the warnings, "" for none
	}{
		{"production, fit", Site{Deploy: &Deploy{SecretKey: strongKey, AllowedHosts: []string{"example.com"}}}, runfcgi.Options{}, "", ""},
		{"production, generated key", Site{Profile: "production", Deploy: &Deploy{SecretKey: generatedKey, GeneratedSecretKey: generatedKey, AllowedHosts: []string{"example.com"}}}, runfcgi.Options{},
			`refusing to serve the settings profile "production"|deploy.E003|mysite check --deploy lists every problem`, ""},
		{"production, wildcard host warns", Site{Deploy: &Deploy{SecretKey: strongKey, AllowedHosts: []string{"*"}}}, runfcgi.Options{}, "", "runfcgi: warning: deploy.W001"},
		{"production, a settings problem", Site{Check: settingsProblem, Deploy: &Deploy{SecretKey: strongKey, AllowedHosts: []string{"a"}}}, runfcgi.Options{}, "settings: StaticRoot is empty", ""},
		{"development as a daemon", Site{Profile: "development", Check: settingsProblem, Deploy: &Deploy{Debug: true, SecretKey: generatedKey, GeneratedSecretKey: generatedKey}}, runfcgi.Options{Daemonize: true},
			"", `serving the settings profile "development" with Debug on as a daemon|runfcgi: warning: settings: StaticRoot is empty`},
		{"development in the foreground", Site{Deploy: &Deploy{Debug: true}}, runfcgi.Options{}, "", "with Debug on in the foreground"},
		{"no Deploy", Site{}, runfcgi.Options{}, "", "passes no deployment settings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := tt.site
			site.Name, site.Handler = "mysite", hello()
			m := newCommand(site)
			warnings, err := m.runfcgiPreflight(tt.opts)
			if tt.err == "" && err != nil {
				t.Errorf("preflight error %v, want none", err)
			}
			if tt.err != "" {
				if err == nil {
					t.Fatalf("preflight passed, want an error with %q", tt.err)
				}
				checkOutput(t, "error", err.Error(), tt.err)
			}
			checkOutput(t, "warnings", strings.Join(warnings, "\n"), tt.warnings)
		})
	}
}

// TestRunfcgiRefusesProduction runs runfcgi through Main: the refusal comes before anything
// listens, with exit status 1.
func TestRunfcgiRefusesProduction(t *testing.T) {
	var out logbuf.Buffer
	status := Main([]string{"runfcgi", "daemonize=false", "host=127.0.0.1", "port=1"}, Site{
		Name: "mysite", Handler: http.NotFoundHandler(), Stdout: &out, Stderr: &out,
		Deploy: &Deploy{SecretKey: strings.Repeat("abcde", 10), AllowedHosts: []string{"example.com"}},
	})
	if status != ExitError || !strings.Contains(out.String(), "deploy.E004") {
		t.Errorf("runfcgi with a weak key = %d, output %q; want 1 and deploy.E004", status, out.String())
	}
}

// TestCheckDeployDocs runs the example of docs/settings.md as it is written: the command's
// environment becomes the settings a generated project passes, and the output must be the
// one the page shows.
func TestCheckDeployDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/settings.md")
	if err != nil {
		t.Skipf("the guides are not beside the runtime here: %v", err)
	}
	const cmd = "$ APPGEN_SETTINGS=production APPGEN_ALLOWED_HOSTS='*' APPGEN_SECRET_KEY="
	_, rest, ok := strings.Cut(string(b), cmd)
	if !ok {
		t.Fatalf("docs/settings.md has no %q example", cmd)
	}
	line, rest, _ := strings.Cut(rest, "\n")
	key, _, _ := strings.Cut(line, " ")
	want, _, _ := strings.Cut(rest, "```")
	var out logbuf.Buffer
	Main([]string{"check", "--deploy"}, Site{Name: "mysite", Handler: hello(), Stdout: &out, Stderr: &out,
		Deploy: &Deploy{SecretKey: key, GeneratedSecretKey: generatedKey, AllowedHosts: []string{"*"}}})
	if out.String() != want {
		t.Errorf("check --deploy printed\n%s\ndocs/settings.md shows\n%s", out.String(), want)
	}
}
