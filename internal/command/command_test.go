package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestReport(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		stderr string
	}{
		{"success", nil, 0, ""},
		{"error", errors.New("generator: boom"), 1, "appgen: generator: boom\n"},
		{"usage", usagef("startproject", "bad %s", "args"), 2, "appgen: bad args\nRun 'appgen help startproject' for usage.\n"},
		{"usage of appgen", usagef("", "unknown command %q", "x"), 2, "appgen: unknown command \"x\"\nRun 'appgen help' for usage.\n"},
		{"help shown", errHelpShown, 2, ""},
		{"interrupted", fmt.Errorf("generator: writing x: %w", context.Canceled), 130, "appgen: interrupted; nothing was written\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := report(tt.err, "", &stderr); got != tt.status {
				t.Errorf("status %d, want %d", got, tt.status)
			}
			if stderr.String() != tt.stderr {
				t.Errorf("stderr %q, want %q", stderr.String(), tt.stderr)
			}
		})
	}
}

func TestVersionLine(t *testing.T) {
	tests := []struct {
		b    Build
		want string
	}{
		{Build{Version: "v1.2.3"}, "v1.2.3"},
		{Build{Version: "v1.2.3", Commit: "abc123"}, "v1.2.3 (commit abc123)"},
		{Build{Version: "v1.2.3", Commit: "abc123", Date: "2026-11-21"}, "v1.2.3 (commit abc123, built 2026-11-21)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := versionLine(tt.b); got != tt.want {
				t.Errorf("versionLine(%+v) = %q, want %q", tt.b, got, tt.want)
			}
		})
	}
	if got := resolveVersion("v9.8.7"); got != "v9.8.7" {
		t.Errorf("resolveVersion kept %q, want the stamped version", got)
	}
	// A test binary's main module is appgen built from source: "(devel)", reported as devel.
	if got := resolveVersion(""); got != "devel" {
		t.Errorf("resolveVersion(\"\") = %q, want devel", got)
	}
}

func TestShellQuote(t *testing.T) {
	tests := map[string]string{
		"mysite":         "mysite",
		"/tmp/my-site_2": "/tmp/my-site_2",
		"~/src/mysite":   "~/src/mysite",
		"out dir/blog":   "'out dir/blog'",
		"it's":           `'it'\''s'`,
		"$HOME/x":        "'$HOME/x'",
		"":               "''",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			if got := shellQuote(in); got != want {
				t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

// TestReleaseBuild builds appgen as a release does (-trimpath, -ldflags -X) and checks
// what only the real binary can show: the stamped version, and that the runtime embedded
// by main.go is vendored into a project as the runtime module at appgen's version.
func TestReleaseBuild(t *testing.T) {
	goBin := requireGo(t)
	root := repoRoot(t)
	bin := filepath.Join(t.TempDir(), "appgen")
	build := exec.Command(goBin, "build", "-trimpath", "-o", bin,
		"-ldflags", "-s -w -X main.version=v1.2.3-test -X main.commit=abc123 -X main.date=2026-11-21", ".")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || string(out) != "appgen version v1.2.3-test (commit abc123, built 2026-11-21)\n" {
		t.Errorf("appgen --version = %q, %v", out, err)
	}

	dir := filepath.Join(t.TempDir(), "mysite")
	if out, err := exec.Command(bin, "startproject", "mysite", dir).CombinedOutput(); err != nil {
		t.Fatalf("appgen startproject: %v\n%s", err, out)
	}
	// The runtime main.go embeds is the module at appgen's own version, file for file.
	checkVendorIsModule(t, goBin, dir, filepath.Join(root, "runtime"), "v1.2.3-test")
}

// requireGo finds the go command: a skip without it, but a failure under CI, which must
// run every test.
func requireGo(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("go is not in PATH; CI=true needs it")
		}
		t.Skip("go is not in PATH")
	}
	return goBin
}
