package doctest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appgen/appgen/internal/command"
)

// consoleBlocks are the console blocks ("$ COMMAND" and the output it prints) that
// TestConsoleBlocks runs in a generated, built project, by file and first line.
var consoleBlocks = [][2]string{
	{"docs/project.md", "$ APPGEN_SETTINGS=nope ./mysite runserver"},
	{"docs/settings.md", "$ APPGEN_SETTINGS=prod ./mysite runserver"},
	// Before issue 10's follow-up the settings' Validate printed the "*" problem a second time.
	{"docs/settings.md", "$ APPGEN_SETTINGS=production APPGEN_ALLOWED_HOSTS='*' APPGEN_SECRET_KEY=abcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcde ./mysite check --deploy"},
}

// projectScripts are sh blocks that TestConsoleBlocks runs as written, with sh -e, in the
// generated project's directory, by file and first line.
var projectScripts = [][2]string{
	{"docs/project.md", "go test ./...            # the settings and the site, offline"},
}

// TestConsoleBlocks runs each of consoleBlocks' commands with sh in a project that
// `appgen startproject mysite` wrote and `go build -o mysite .` built, and compares what
// it prints with the block's output lines.
func TestConsoleBlocks(t *testing.T) {
	dir := builtProject(t)
	for _, cb := range consoleBlocks {
		t.Run(cb[0]+":"+cb[1], func(t *testing.T) {
			b := findBlock(t, cb[0], cb[1])
			lines := strings.Split(strings.TrimRight(b.Text, "\n"), "\n")
			cmdLine := strings.TrimPrefix(strings.TrimSpace(lines[0]), "$ ")
			want := strings.Join(lines[1:], "\n")
			cmd := exec.Command("sh", "-c", cmdLine)
			cmd.Dir = dir
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
			out, _ := cmd.CombinedOutput() // these examples show a failure: the output is what counts
			if got := strings.TrimRight(string(out), "\n"); got != want {
				t.Errorf("%s:%d: %s printed\n%s\nthe guide shows\n%s", cb[0], b.Line, cmdLine, got, want)
			}
		})
	}
	for _, ps := range projectScripts {
		t.Run(ps[0]+":"+ps[1], func(t *testing.T) {
			b := findBlock(t, ps[0], ps[1])
			cmd := exec.Command("sh", "-e", "-c", b.Text)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s:%d: %v\n%s", ps[0], b.Line, err, out)
			}
		})
	}
}

// builtProject is generatedProject, built with `go build -o mysite .`.
func builtProject(t *testing.T) string {
	t.Helper()
	dir := generatedProject(t)
	build := exec.Command("go", "build", "-o", "mysite", ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build in the generated project: %v\n%s", err, out)
	}
	return dir
}

// generatedProject runs `appgen startproject mysite` through the real entry point and
// returns the project's directory.
func generatedProject(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	dir := filepath.Join(t.TempDir(), "mysite")
	var stdout, stderr bytes.Buffer
	args := []string{"appgen", "startproject", "mysite", dir}
	if status := command.Execute(command.Build{Version: "doctest"}, os.DirFS(filepath.Join(root, "runtime")), args, &stdout, &stderr); status != 0 {
		t.Fatalf("appgen startproject: status %d\n%s%s", status, stdout.String(), stderr.String())
	}
	return dir
}

// findBlock returns the block of the repository file page whose first line is first.
func findBlock(t *testing.T, page, first string) Block {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), page))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range Blocks(string(data)) {
		if b.First() == first {
			return b
		}
	}
	t.Fatalf("%s has no block starting %q", page, first)
	return Block{}
}
