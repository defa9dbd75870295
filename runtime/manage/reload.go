package manage

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/appgen/appgen/runtime/internal/listenfd"
)

// listenerEnv names the descriptor of the listening socket a reloading runserver hands to the
// server it runs: the socket stays open in the reloader across rebuilds, so a browser's
// connection waits in its backlog while the new build starts, instead of being refused.
const listenerEnv = "APPGEN_RUNSERVER_LISTENER"

// reloadPoll is how often the reloader looks at the sources, as Django's StatReloader does.
const reloadPoll = time.Second

// inheritedListener is the socket a reloader passed, or nil when this process is not its child.
func inheritedListener() (net.Listener, error) {
	v, ok := os.LookupEnv(listenerEnv)
	if !ok {
		return nil, nil
	}
	os.Unsetenv(listenerEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("%s=%q: want the descriptor of a listening socket, 3 or more", listenerEnv, v)
	}
	f := os.NewFile(uintptr(fd), "runserver-listener")
	defer f.Close()
	l, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("the socket the reloader passed (%s=%d): %w", listenerEnv, fd, err)
	}
	return l, nil
}

// reloader is runserver's parent process with autoreload on: it listens, runs the server as a
// child on that socket, and when a source file or template changes, rebuilds the program with
// the go command, starts the new build on the same socket and stops the old one gracefully.
// A build that fails leaves the old server serving, and the error on the terminal.
type reloader struct {
	m       *command
	modRoot string // the directory of go.mod
	pkg     string // the main package, relative to modRoot ("." or "./cmd/x")
	goTool  string
	tmp     string // the builds
	builds  int
}

// newReloader finds what a rebuild needs: the module's sources and the go command. Without
// them (a binary copied without its sources) runserver serves without reloading.
func newReloader(m *command) (*reloader, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("the go command is not in PATH (use --noreload to say so)")
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	modRoot := wd
	for {
		if _, err := os.Stat(filepath.Join(modRoot, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(modRoot)
		if parent == modRoot {
			return nil, fmt.Errorf("no go.mod in %s or above it, so there are no sources to watch (run it in the project, or use --noreload)", wd)
		}
		modRoot = parent
	}
	pkg := "."
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path != "" {
		if rel, ok := strings.CutPrefix(bi.Path, bi.Main.Path); ok && (rel == "" || rel[0] == '/') {
			pkg = "." + rel
		}
	}
	return &reloader{m: m, modRoot: modRoot, pkg: pkg, goTool: goTool}, nil
}

// run serves addr until a stop signal, restarting the server after each change.
func (rl *reloader) run(addr string) int {
	m := rl.m
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		m.errorf("runserver: %v", err)
		return ExitError
	}
	// The reloader never accepts: it keeps the socket as a bare descriptor, which no poller
	// watches, so that the connections its server accepts do not wake it (as a listener it
	// took 5% of the CPU under load through nginx).
	sock, err := listenfd.Dup(l)
	l.Close()
	if err != nil {
		m.errorf("runserver: %v", err)
		return ExitError
	}
	defer listenfd.Close(sock)
	if rl.tmp, err = os.MkdirTemp("", "runserver-"); err != nil {
		m.errorf("runserver: %v", err)
		return ExitError
	}
	defer os.RemoveAll(rl.tmp)
	exe, err := os.Executable()
	if err != nil {
		m.errorf("runserver: finding this program: %v", err)
		return ExitError
	}
	fmt.Fprintf(m.stdout, "Watching for file changes in %s (Go sources, go.mod, templates); --noreload turns this off.\n", rl.modRoot)
	seen := rl.snapshot()
	child, exited, err := rl.start(exe, sock)
	if err != nil {
		m.errorf("runserver: %v", err)
		return ExitError
	}
	tick := time.NewTicker(reloadPoll)
	defer tick.Stop()
	stopping := false
	for {
		select {
		case sig := <-sigs:
			// The server runs in its own process group, so a terminal's Ctrl-C reaches this
			// process alone and is passed on once: the first lets the server drain, a second
			// stops it at once, as without the reloader.
			if child == nil {
				return ExitOK
			}
			stopping = true
			child.Process.Signal(sig)
		case err := <-exited:
			child, exited = nil, nil
			if stopping {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					return ee.ExitCode()
				}
				return ExitOK
			}
			fmt.Fprintf(m.stderr, "%s: runserver: the server exited (%v); waiting for a change to restart it\n", m.name, err)
		case <-tick.C:
			now := rl.snapshot()
			changed := firstChange(seen, now)
			if changed == "" {
				continue
			}
			seen = now
			rel, _ := filepath.Rel(rl.modRoot, changed)
			fmt.Fprintf(m.stdout, "%s changed, rebuilding.\n", rel)
			bin, err := rl.build()
			if err != nil {
				fmt.Fprintf(m.stderr, "%s: runserver: %v\n(the server goes on with the previous build)\n", m.name, err)
				continue
			}
			next, nextExited, err := rl.start(bin, sock)
			if err != nil {
				fmt.Fprintf(m.stderr, "%s: runserver: %v\n", m.name, err)
				continue
			}
			if child != nil {
				// The new server accepts on the same socket already; the old one finishes
				// its requests in flight and exits.
				child.Process.Signal(syscall.SIGTERM)
			}
			child, exited = next, nextExited
		}
	}
}

// start runs bin as the server on the socket sock.
func (rl *reloader) start(bin string, sock int) (*exec.Cmd, chan error, error) {
	lf, err := listenfd.File(sock, "runserver-listener")
	if err != nil {
		return nil, nil, err
	}
	defer lf.Close()
	cmd := exec.Command(bin, os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{lf} // fd 3
	cmd.Env = append(os.Environ(), listenerEnv+"=3")
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return cmd, exited, nil
}

// build compiles the program into a new file, so the running server's file is never
// rewritten under it.
func (rl *reloader) build() (string, error) {
	rl.builds++
	out := filepath.Join(rl.tmp, fmt.Sprintf("%s-%d", filepath.Base(os.Args[0]), rl.builds))
	cmd := exec.Command(rl.goTool, "build", "-o", out, rl.pkg)
	cmd.Dir = rl.modRoot
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", rl.pkg, err, strings.TrimRight(string(b), "\n"))
	}
	// The build before the previous one is no longer running.
	if rl.builds > 2 {
		os.Remove(filepath.Join(rl.tmp, fmt.Sprintf("%s-%d", filepath.Base(os.Args[0]), rl.builds-2)))
	}
	return out, nil
}

// fileState is what the reloader compares between two looks at a file.
type fileState struct {
	mod  time.Time
	size int64
}

// snapshot records the files a rebuild depends on: Go sources (not tests), go.mod, go.sum,
// and everything under a directory named templates (embedded into the binary). Hidden
// directories and testdata are skipped.
func (rl *reloader) snapshot() map[string]fileState {
	files := map[string]fileState{}
	filepath.WalkDir(rl.modRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if p != rl.modRoot && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		watched := (strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")) ||
			name == "go.mod" || name == "go.sum" ||
			strings.Contains(filepath.ToSlash(p), "/templates/")
		if !watched || !d.Type().IsRegular() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			files[p] = fileState{mod: fi.ModTime(), size: fi.Size()}
		}
		return nil
	})
	return files
}

// firstChange names a file added, removed or changed between two snapshots, "" for none.
func firstChange(before, after map[string]fileState) string {
	for p, a := range after {
		if b, ok := before[p]; !ok || !b.mod.Equal(a.mod) || b.size != a.size {
			return p
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			return p
		}
	}
	return ""
}
