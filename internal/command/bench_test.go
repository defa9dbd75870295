package command

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/appgen/appgen/generator"
	appgenruntime "github.com/appgen/appgen/runtime"
	"github.com/appgen/appgen/templates"
)

// The benchmarks compare `appgen startproject` with `django-admin startproject`, the command
// it is modelled on; docs/startproject.md reports them as ratios from one run:
//
//	go test ./internal/command -run '^$' -bench 'Startproject|Version' -benchtime 20x -count 5
//
// RenderDefault is the in-memory part alone (templates, formatting, runtime bundle,
// deploy files); StartprojectInProcess adds writing the tree; both read the runtime from
// the same embedded copy the binary has. The Process variants time a whole command,
// process start-up included, which is what a user waits for; bench/cli/run times the same
// commands round by round, with the floors of the machine (/bin/true, a Go hello-world)
// in the same run.

func BenchmarkRenderDefault(b *testing.B) {
	for b.Loop() {
		files, _, err := generator.Render(generator.Options{Name: "mysite", Template: templates.Project, Runtime: &generator.Runtime{Files: appgenruntime.Files, Version: generator.DevelRuntimeVersion}})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := withDeployFiles(files, "/srv/mysite", "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStartprojectInProcess(b *testing.B) {
	parent := b.TempDir()
	i := 0
	for b.Loop() {
		i++
		var out bytes.Buffer
		dir := filepath.Join(parent, fmt.Sprint(i))
		if status := Execute(Build{Version: "bench"}, appgenruntime.Files, []string{"appgen", "startproject", "mysite", dir}, &out, &out); status != 0 {
			b.Fatalf("status %d: %s", status, out.String())
		}
	}
}

// appgenBinary builds appgen as releases are built (.goreleaser.yaml: static, -trimpath,
// -s -w, its tags), once per run.
func appgenBinary(b *testing.B) string {
	b.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		b.Skip("go is not in PATH")
	}
	bin := filepath.Join(b.TempDir(), "appgen")
	build := exec.Command(goBin, "build", "-trimpath", "-tags", "urfave_cli_no_docs", "-ldflags", "-s -w", "-o", bin, ".")
	build.Dir = repoRoot(b)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func BenchmarkStartprojectProcess(b *testing.B) {
	benchProcess(b, appgenBinary(b), true, "startproject", "mysite")
}

func BenchmarkDjangoStartprojectProcess(b *testing.B) {
	benchProcess(b, django(b), true, "startproject", "mysite")
}

// The Version benchmarks time what any command costs before it does its work: process
// start-up and package initialization.
func BenchmarkVersionProcess(b *testing.B) {
	benchProcess(b, appgenBinary(b), false, "--version")
}

func BenchmarkDjangoVersionProcess(b *testing.B) {
	benchProcess(b, django(b), false, "--version")
}

// The Baseline benchmarks time another appgen binary, named by APPGEN_BENCH_BASELINE (an
// older build, say), in the same run; without it they are skipped.
func BenchmarkBaselineVersionProcess(b *testing.B) {
	benchProcess(b, baseline(b), false, "--version")
}

func BenchmarkBaselineStartprojectProcess(b *testing.B) {
	benchProcess(b, baseline(b), true, "startproject", "mysite")
}

func baseline(b *testing.B) string {
	bin := os.Getenv("APPGEN_BENCH_BASELINE")
	if bin == "" {
		b.Skip("APPGEN_BENCH_BASELINE names no appgen binary to compare with")
	}
	return bin
}

func django(b *testing.B) string {
	django, err := exec.LookPath("django-admin")
	if err != nil {
		b.Skip("django-admin is not installed (Debian: apt-get install python3-django)")
	}
	return django
}

// benchProcess runs PROG ARGS... once per iteration (with a new directory DIR appended when
// dir is set). Besides wall time it reports the CPU time the process used (cpu-ms/op, user
// plus system, from its rusage), which a loaded machine distorts far less than wall time.
func benchProcess(b *testing.B, prog string, dir bool, args ...string) {
	parent := b.TempDir()
	i := 0
	var cpu time.Duration
	for b.Loop() {
		i++
		argv := args
		if dir {
			d := filepath.Join(parent, fmt.Sprint(i))
			if err := os.Mkdir(d, 0o755); err != nil {
				b.Fatal(err)
			}
			argv = append(slices.Clone(args), d)
		}
		c := exec.Command(prog, argv...)
		if out, err := c.CombinedOutput(); err != nil {
			b.Fatalf("%s: %v\n%s", prog, err, out)
		}
		cpu += c.ProcessState.UserTime() + c.ProcessState.SystemTime()
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
