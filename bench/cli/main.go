// Command cli times appgen's commands against django-admin's and against the floors of this
// machine, in one interleaved run (bench/cli/run is its front door):
//
//	appgen --version          vs  django-admin --version
//	appgen startproject NAME  vs  django-admin startproject NAME
//	/bin/true                     (what starting any process costs here)
//	a Go hello-world              (what starting any Go program costs here)
//
// Each round runs every command once, in an order rotated from round to round, so that
// whatever else the machine does weighs on all of them alike. It reports each command's
// median wall time and median CPU time (user + system, from the process's rusage, which a
// loaded machine distorts far less) and the ratios to the peers measured in the same run.
//
//	go run ./bench/cli -rounds 30 [-baseline /path/to/an/older/appgen]
//
// It builds appgen and the hello-world as releases are built (CGO_ENABLED=0, -trimpath,
// -ldflags "-s -w", the urfave_cli_no_docs tag) into a temporary directory, runs every
// command there, and removes everything it made.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

func main() {
	rounds := flag.Int("rounds", 30, "how many times each command runs")
	baseline := flag.String("baseline", "", "another appgen binary to time in the same run (an older build, say)")
	flag.Parse()
	if err := run(*rounds, *baseline); err != nil {
		fmt.Fprintln(os.Stderr, "bench/cli:", err)
		os.Exit(1)
	}
}

// A command is one program timed each round. Its dir flag asks for a new directory name as
// the last argument each round (startproject's target).
type command struct {
	label string
	argv  []string
	dir   bool
	wall  []time.Duration
	cpu   []time.Duration
}

func run(rounds int, baseline string) error {
	django, err := exec.LookPath("django-admin")
	if err != nil {
		return fmt.Errorf("django-admin is not installed (Debian: apt-get install python3-django)")
	}
	truePath, err := exec.LookPath("true")
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "appgen-bench-cli-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	appgen := filepath.Join(work, "appgen")
	if err := build(".", appgen); err != nil {
		return err
	}
	hello := filepath.Join(work, "hello")
	helloDir := filepath.Join(work, "hellosrc")
	if err := os.Mkdir(helloDir, 0o755); err != nil {
		return err
	}
	src := "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"hello\\n\") }\n"
	if err := os.WriteFile(filepath.Join(helloDir, "main.go"), []byte(src), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(helloDir, "go.mod"), []byte("module hello\n"), 0o644); err != nil {
		return err
	}
	if err := build(helloDir, hello); err != nil {
		return err
	}
	cmds := []*command{
		{label: "/bin/true", argv: []string{truePath}},
		{label: "Go hello-world", argv: []string{hello}},
		{label: "appgen --version", argv: []string{appgen, "--version"}},
		{label: "django-admin --version", argv: []string{django, "--version"}},
		{label: "appgen startproject", argv: []string{appgen, "startproject", "mysite"}, dir: true},
		{label: "django-admin startproject", argv: []string{django, "startproject", "mysite"}, dir: true},
	}
	if baseline != "" {
		cmds = append(cmds,
			&command{label: "baseline --version", argv: []string{baseline, "--version"}},
			&command{label: "baseline startproject", argv: []string{baseline, "startproject", "mysite"}, dir: true})
	}
	for r := range rounds {
		for i := range cmds {
			c := cmds[(i+r)%len(cmds)]
			if err := c.once(work, r); err != nil {
				return err
			}
		}
	}
	report(os.Stdout, rounds, cmds)
	return nil
}

// build compiles the main package in dir to out as .goreleaser.yaml builds releases: static
// (without cgo the net package's resolver would link the C library, whose dynamic loading
// costs every start-up), without symbol tables, without the urfave/cli documentation writers.
func build(dir, out string) error {
	b := exec.Command("go", "build", "-trimpath", "-tags", "urfave_cli_no_docs", "-ldflags", "-s -w", "-o", out, ".")
	b.Dir = dir
	b.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := b.CombinedOutput(); err != nil {
		return fmt.Errorf("go build in %s: %v\n%s", dir, err, msg)
	}
	return nil
}

// once runs c and records its times. The directories it makes stay until the end of the
// run: ext4 skips the inodes it freed in the last seconds when it allocates new ones, so
// removing a project before the next one is written made every file creation scan past
// the previous round's inodes (a third of startproject's time in a profile), a cost a user
// starting a project does not pay.
func (c *command) once(work string, round int) error {
	argv := c.argv
	if c.dir {
		dir := filepath.Join(work, fmt.Sprintf("%s-%d", strings.Fields(c.label)[0], round))
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		argv = append(slices.Clone(argv), dir)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = work
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		return fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	c.wall = append(c.wall, wall)
	c.cpu = append(c.cpu, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	return nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func report(w *os.File, rounds int, cmds []*command) {
	load, _ := os.ReadFile("/proc/loadavg")
	ver, _ := exec.Command("django-admin", "--version").Output()
	fmt.Fprintf(w, "bench/cli: %d rounds, load average %s, django-admin %s\n",
		rounds, strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "), strings.TrimSpace(string(ver)))
	fmt.Fprintf(w, "%-28s %12s %12s\n", "command (median)", "wall", "CPU")
	med := map[string][2]time.Duration{}
	for _, c := range cmds {
		m := [2]time.Duration{median(c.wall), median(c.cpu)}
		med[c.label] = m
		fmt.Fprintf(w, "%-28s %9.1f ms %9.1f ms\n", c.label, ms(m[0]), ms(m[1]))
	}
	fmt.Fprintf(w, "\nratios of medians (wall, CPU; lower is faster):\n")
	for _, p := range [][2]string{
		{"appgen --version", "django-admin --version"},
		{"appgen startproject", "django-admin startproject"},
		{"appgen --version", "Go hello-world"},
		{"appgen startproject", "Go hello-world"},
		{"Go hello-world", "/bin/true"},
		{"appgen --version", "baseline --version"},
		{"appgen startproject", "baseline startproject"},
	} {
		a, okA := med[p[0]]
		b, okB := med[p[1]]
		if !okA || !okB {
			continue
		}
		fmt.Fprintf(w, "  %-22s / %-26s %5.2f %5.2f\n", p[0], p[1], ratio(a[0], b[0]), ratio(a[1], b[1]))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
