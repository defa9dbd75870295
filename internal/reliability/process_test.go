package reliability

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/testsupport/logbuf"
)

// appBinary is testdata/app, built once per test binary into binDir (made by TestMain).
var (
	binDir   string
	buildApp sync.Once
	appPath  string
	buildErr error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "reliability-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// app returns the path of the built test application, building it on first use.
func app(t *testing.T) string {
	t.Helper()
	buildApp.Do(func() {
		appPath = filepath.Join(binDir, "app")
		out, err := exec.Command("go", "build", "-o", appPath, "./testdata/app").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("building testdata/app: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return appPath
}

// appProcess is testdata/app running "runfcgi" for one test.
type appProcess struct {
	cmd    *exec.Cmd
	output *logbuf.Buffer
	exited chan struct{}
	err    error
}

// startApp runs the app with runfcgi args and waits until network, addr accepts connections.
// It is killed (with its process group) at cleanup if it is still running.
func startApp(t *testing.T, network, addr string, args ...string) *appProcess {
	t.Helper()
	out := &logbuf.Buffer{}
	cmd := exec.Command(app(t), append([]string{"runfcgi", "daemonize=false"}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &appProcess{cmd: cmd, output: out, exited: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
		if t.Failed() {
			t.Logf("app output:\n%s", out.String())
		}
	})
	for deadline := time.Now().Add(hangGuard); ; time.Sleep(20 * time.Millisecond) {
		select {
		case <-p.exited:
			t.Fatalf("app exited before listening on %s: %v\n%s", addr, p.err, out.String())
		default:
		}
		c, err := net.DialTimeout(network, addr, time.Second)
		if err == nil {
			c.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("app did not listen on %s within %v: %v\n%s", addr, hangGuard, err, out.String())
		}
	}
}

// wait waits (up to the hang guard) for the process to exit and returns its exit status.
func (p *appProcess) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(hangGuard):
		t.Fatalf("app still running %v after it was told to stop\n%s", hangGuard, p.output.String())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("app: %v", p.err)
	}
	return 0
}

// fcgiGet makes one FastCGI request for path on a new connection to network, addr.
func fcgiGet(network, addr, path string) (Response, error) {
	c, err := net.DialTimeout(network, addr, hangGuard)
	if err != nil {
		return Response{}, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(hangGuard))
	if _, err := c.Write(FCGIRequest(1, false, nil, GetParams("GET", path)...)); err != nil {
		return Response{}, err
	}
	return ReadFCGIResponse(bufio.NewReader(c), 1)
}

// TestGracefulStop is scenario 7: SIGTERM while requests are in flight. Every request whose
// handler had begun before the signal completes with 200; then the process exits with status
// 0 and has removed its unix socket and its pidfile. Run for both process models.
func TestGracefulStop(t *testing.T) {
	for _, method := range []string{"threaded", "prefork"} {
		t.Run(method, func(t *testing.T) {
			dir := t.TempDir()
			sock := filepath.Join(dir, "app.sock")
			pidfile := filepath.Join(dir, "app.pid")
			args := []string{"protocol=fcgi", "method=" + method, "socket=" + sock, "pidfile=" + pidfile}
			if method == "prefork" {
				args = append(args, "minspare=3", "maxspare=3", "maxchildren=3")
			}
			p := startApp(t, "unix", sock, args...)
			// runfcgi writes its pidfile just after the socket listens (a failed bind leaves
			// none), so the socket can answer first on a busy machine.
			for deadline := time.Now().Add(hangGuard); ; time.Sleep(10 * time.Millisecond) {
				_, err := os.Stat(pidfile)
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("pidfile: %v", err)
				}
			}

			inFlight := 3
			if long() {
				inFlight = 12
			}
			type result struct {
				status int
				err    error
			}
			results := make(chan result, inFlight)
			// begun counts the requests whose handlers have started (or that failed before).
			var begun sync.WaitGroup
			for range inFlight {
				begun.Add(1)
				go func() {
					c, err := net.DialTimeout("unix", sock, hangGuard)
					if err != nil {
						begun.Done()
						results <- result{err: err}
						return
					}
					defer c.Close()
					_ = c.SetDeadline(time.Now().Add(hangGuard))
					r := bufio.NewReader(c)
					// A first request proves the connection was accepted by a worker, so the
					// second one is in flight, not waiting in the listen backlog.
					c.Write(FCGIRequest(1, true, nil, GetParams("GET", "/")...))
					if _, err := ReadFCGIResponse(r, 1); err != nil {
						begun.Done()
						results <- result{err: err}
						return
					}
					_, err = c.Write(FCGIRequest(2, true, nil, GetParams("GET", "/sleep?ms=700&flush=1")...))
					if err == nil {
						// The handler flushes its headers before it sleeps: once they are here
						// the request is in flight by anyone's definition.
						_, err = r.Peek(1)
					}
					begun.Done()
					if err != nil {
						results <- result{err: err}
						return
					}
					resp, err := ReadFCGIResponse(r, 2)
					results <- result{resp.Status, err}
				}()
			}
			begun.Wait()
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			var ok, failed int
			for range inFlight {
				r := <-results
				if r.err != nil || r.status != 200 {
					failed++
					t.Errorf("in-flight request: status %d, error %v", r.status, r.err)
					continue
				}
				ok++
			}
			code := p.wait(t)
			t.Logf("%s: %d in flight at SIGTERM, %d completed 200, %d failed; exit status %d", method, inFlight, ok, failed, code)
			if code != 0 {
				t.Errorf("exit status %d, want 0\n%s", code, p.output.String())
			}
			for _, f := range []string{sock, pidfile} {
				if _, err := os.Lstat(f); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s still exists after exit (%v)", f, err)
				}
			}
		})
	}
}

// workerPIDs returns the prefork master's worker processes.
func workerPIDs(t *testing.T, master int) []int {
	t.Helper()
	kids, err := Children(master)
	if err != nil {
		t.Fatal(err)
	}
	return kids
}
