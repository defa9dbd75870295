//go:build unix

package manage

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// reloadProject builds a module that serves its version with manage.Main.
func reloadProject(t *testing.T) (dir, bin string) {
	t.Helper()
	return buildModule(t, map[string]string{
		"main.go": `package main

import (
	"fmt"
	"net/http"
	"os"

	"github.com/appgen/appgen/runtime/manage"
)

func main() {
	os.Exit(manage.Main(os.Args[1:], manage.Site{Name: "rs", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "version=%s pid=%d", version, os.Getpid())
	})}))
}
`,
		"version.go": "package main\n\nconst version = \"one\"\n",
	})
}

// buildModule writes files and a go.mod requiring this repository's runtime module into a new
// directory and builds the program there, offline. It returns the directory and the binary.
func buildModule(t *testing.T, files map[string]string) (dir, bin string) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is not in PATH: %v", err)
	}
	// The runtime module, which has no dependencies: no go.sum needed.
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	files["go.mod"] = "module example.com/rs\n\ngo 1.24\n\nrequire github.com/appgen/appgen/runtime v0.0.0\n\nreplace github.com/appgen/appgen/runtime => " + repo + "\n"
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin = filepath.Join(dir, "rs")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir, bin
}

// lockedLines collects a process's output.
type lockedLines struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLines) add(r io.Reader) {
	s := bufio.NewScanner(r)
	for s.Scan() {
		l.mu.Lock()
		l.b.WriteString(s.Text() + "\n")
		l.mu.Unlock()
	}
}

func (l *lockedLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startRunserver runs bin's runserver on a free port and waits until it answers.
func startRunserver(t *testing.T, dir, bin string, args ...string) (*exec.Cmd, string, *lockedLines) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, append(append([]string{"runserver"}, args...), addr)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
	out := &lockedLines{}
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go out.add(stdout)
	go out.add(stderr)
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	for i := 0; ; i++ {
		if _, _, err := fetch("http://" + addr + "/"); err == nil {
			break
		}
		if i == 300 {
			t.Fatalf("runserver did not answer; output:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cmd, addr, out
}

func fetch(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestRunserverReloads pins issue 10's "runserver reloads after a source or template change,
// keeping the listening socket": a changed source is rebuilt and served while requests keep
// coming, and none of them is refused or fails; a build that fails leaves the previous one
// serving; SIGTERM stops the reloader and its server.
func TestRunserverReloads(t *testing.T) {
	dir, bin := reloadProject(t)
	cmd, addr, out := startRunserver(t, dir, bin)
	_, body, err := fetch("http://" + addr + "/")
	if err != nil || !strings.HasPrefix(body, "version=one ") {
		t.Fatalf("GET / = %q, %v; want version one", body, err)
	}
	if strings.HasSuffix(body, fmt.Sprintf(" pid=%d", cmd.Process.Pid)) {
		t.Errorf("GET / = %q: served by the reloader itself, want its child", body)
	}
	if !strings.Contains(out.String(), "Watching for file changes in "+dir) {
		t.Errorf("output lacks the watching line:\n%s", out)
	}

	if err := os.WriteFile(filepath.Join(dir, "version.go"), []byte("package main\n\nconst version = \"two\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Bounded by the build's time, not measured.
	deadline := time.Now().Add(2 * time.Minute)
	requests := 0
	for {
		status, body, err := fetch("http://" + addr + "/")
		requests++
		if err != nil || status != http.StatusOK {
			t.Fatalf("request %d during the reload: %d %q %v; output:\n%s", requests, status, body, err, out)
		}
		if strings.HasPrefix(body, "version=two ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %q after the change; output:\n%s", body, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "version.go changed, rebuilding.") {
		t.Errorf("output lacks the change:\n%s", out)
	}

	t.Run("a failed build keeps the previous one", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "version.go"), []byte("package main\n\nconst version = \n"), 0o644); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for !strings.Contains(out.String(), "the server goes on with the previous build") {
			if time.Now().After(deadline) {
				t.Fatalf("no build error reported; output:\n%s", out)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if _, body, err := fetch("http://" + addr + "/"); err != nil || !strings.HasPrefix(body, "version=two ") {
			t.Errorf("GET / after a failed build = %q, %v; want version two still", body, err)
		}
	})

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("runserver after SIGTERM: %v; output:\n%s", err, out)
	}
	if _, _, err := fetch("http://" + addr + "/"); err == nil {
		t.Error("something still answers after the reloader stopped")
	}
}

// TestRunserverNoReload pins --noreload: the server runs in the process itself, watching
// nothing.
func TestRunserverNoReload(t *testing.T) {
	dir, bin := reloadProject(t)
	cmd, addr, out := startRunserver(t, dir, bin, "--noreload")
	_, body, err := fetch("http://" + addr + "/")
	if want := fmt.Sprintf("version=one pid=%d", cmd.Process.Pid); err != nil || body != want {
		t.Errorf("GET / = %q, %v; want %q", body, err, want)
	}
	if strings.Contains(out.String(), "Watching") {
		t.Errorf("--noreload watches:\n%s", out)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
}
