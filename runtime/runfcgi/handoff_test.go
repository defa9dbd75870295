//go:build unix

package runfcgi

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readPID reads a pidfile.
func readPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("pidfile: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pidfile holds %q", b)
	}
	return pid
}

// Issue 11: SIGHUP in the threaded model re-executes the binary with the
// listening socket inherited. The new process serves before the old one
// drains, the pidfile follows, the socket file stays, and a new process
// that fails to start leaves the old one serving.
func TestThreadedSIGHUPHandsOver(t *testing.T) {
	c := newClient(t)
	dir := tempDir(t)
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "h.sock")
	pidfile := filepath.Join(dir, "h.pid")
	p := start(t, helper(t, dir, "method=threaded", "socket="+sock, "daemonize=false", "pidfile="+pidfile, "workdir="+work, "debug=true"))
	p.waitFor("serving fcgi (method=threaded)")
	old := p.cmd.Process.Pid
	// An answer means Serve runs, so SIGHUP is caught by then.
	if _, err := c.get(sock, "/first"); err != nil {
		t.Fatal(err)
	}

	// A new process that fails leaves the old one serving: here it cannot
	// change to workdir=.
	if err := os.Rename(work, work+".away"); err != nil {
		t.Fatal(err)
	}
	p.signal(syscall.SIGHUP)
	p.waitFor("the new process failed: runfcgi: workdir=")
	if err := os.Rename(work+".away", work); err != nil {
		t.Fatal(err)
	}
	body, err := c.get(sock, "/still")
	if err != nil || pidOf(t, body) != old {
		t.Fatalf("after a failed SIGHUP: %q, %v; want pid %d still serving", body, err, old)
	}
	if pid := readPID(t, pidfile); pid != old {
		t.Errorf("pidfile names %d, want the old process %d", pid, old)
	}

	slow := slowRequest(t, c, p, sock, dir)
	p.signal(syscall.SIGHUP)
	p.waitFor("serves now; finishing the requests in flight here")
	next := readPID(t, pidfile)
	if next == old {
		t.Fatalf("pidfile still names the old process %d", old)
	}
	t.Cleanup(func() { syscall.Kill(next, syscall.SIGKILL) })
	// The new process serves while the old one still holds a request.
	served := false
	for i := 0; i < 100 && !served; i++ {
		body, err := c.get(sock, fmt.Sprintf("/new%d", i))
		if err != nil {
			t.Fatalf("request %d during the hand-over: %v", i, err)
		}
		served = pidOf(t, body) == next
	}
	if !served {
		t.Fatalf("the new process %d answered none of 100 requests", next)
	}
	release(t, dir)
	if r := <-slow; r.err != nil || r.body != "slow done" {
		t.Errorf("request in flight in the old process = %q, %v", r.body, r.err)
	}
	// Not p.wait, nor cmd.Wait: the new process shares the old one's
	// stderr, which never ends while it runs, and closing it would kill
	// the new process with SIGPIPE at its next log line.
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(old, &ws, 0, nil); err != nil {
		t.Fatal(err)
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		t.Errorf("old process ended with %v; stderr:\n%s", ws, p.stderr())
	}
	if _, err := os.Lstat(sock); err != nil {
		t.Fatalf("socket file after the old process exited: %v", err)
	}
	if body, err := c.get(sock, "/after"); err != nil || pidOf(t, body) != next {
		t.Errorf("after the old process exited: %q, %v; want pid %d", body, err, next)
	}
	// The new process owns the socket file and pidfile now.
	if err := syscall.Kill(next, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3000 && !processGone(next); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	for _, f := range []string{sock, pidfile} {
		if _, err := os.Lstat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after the new process stopped: %v, want it removed", f, err)
		}
	}
}

// Issue 11: systemd socket activation, with systemd's own tool passing the
// socket (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES).
func TestSocketActivation(t *testing.T) {
	c := newClient(t)
	activate, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("systemd-socket-activate not found (Debian package systemd): %v", err)
		}
		t.Skip("systemd-socket-activate not found (Debian package systemd); skipping")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := tempDir(t)
	sock := filepath.Join(dir, "a.sock")
	for _, method := range []string{"threaded", "prefork"} {
		t.Run(method, func(t *testing.T) {
			// host= and port= are given, as a unit might: the passed socket
			// wins, and the process stays in the foreground for systemd.
			cmd := exec.Command(activate, "-l", sock, "--fdname="+filepath.Base(exe),
				"-E", helperEnv+"=1", "-E", dirEnv+"="+dir,
				exe, "method="+method, "host=127.0.0.1", "port=1", "minspare=1", "maxspare=1", "maxchildren=2")
			cmd.Dir = dir
			p := start(t, cmd)
			p.waitFor("Listening on " + sock)
			body, err := c.get(sock, "/activated")
			if err != nil {
				t.Fatalf("%v; stderr:\n%s", err, p.stderr())
			}
			if !strings.Contains(body, "path=/activated") {
				t.Errorf("answered %q", body)
			}
			if !strings.Contains(p.stderr(), "serving the socket systemd passed") {
				t.Errorf("no log of the passed socket replacing host= and port=:\n%s", p.stderr())
			}
			p.signal(syscall.SIGTERM)
			if code := p.wait(); code != 0 {
				t.Errorf("exit status %d; stderr:\n%s", code, p.stderr())
			}
			if _, err := os.Lstat(sock); err != nil {
				t.Errorf("socket file after the server stopped: %v; systemd's socket must outlive it", err)
			}
		})
	}
}

// Issue 11: SIGHUP again and again under load loses no request in the
// threaded model (the reliability harness's scenario, short and through a
// FastCGI client that is not ours).
func TestThreadedSIGHUPUnderLoad(t *testing.T) {
	c := newClient(t)
	dir := tempDir(t)
	sock := filepath.Join(dir, "l.sock")
	pidfile := filepath.Join(dir, "l.pid")
	p := start(t, helper(t, dir, "method=threaded", "socket="+sock, "daemonize=false", "pidfile="+pidfile))
	if _, err := c.get(sock, "/first"); err != nil {
		// Wait until it serves (and so catches SIGHUP).
		for i := 0; i < 100 && err != nil; i++ {
			time.Sleep(20 * time.Millisecond)
			_, err = c.get(sock, "/first")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if b, err := os.ReadFile(pidfile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	stop := make(chan struct{})
	type tally struct {
		ok   int
		errs []error
	}
	results := make(chan tally)
	for range 3 {
		go func() {
			var tl tally
			for i := 0; ; i++ {
				select {
				case <-stop:
					results <- tl
					return
				default:
				}
				if _, err := c.get(sock, "/load"+strconv.Itoa(i)); err != nil {
					tl.errs = append(tl.errs, err)
				} else {
					tl.ok++
				}
			}
		}()
	}
	const hups = 5
	for i := range hups {
		pid := readPID(t, pidfile)
		if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		// The next SIGHUP goes to the process that took over.
		deadline := time.Now().Add(20 * time.Second)
		for readPID(t, pidfile) == pid {
			if time.Now().After(deadline) {
				t.Fatalf("SIGHUP %d: pid %d never handed over; stderr:\n%s", i+1, pid, p.stderr())
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
	}
	close(stop)
	var total tally
	for range 3 {
		tl := <-results
		total.ok += tl.ok
		total.errs = append(total.errs, tl.errs...)
	}
	for _, err := range total.errs {
		t.Errorf("request failed across %d hand-overs: %v", hups, err)
	}
	t.Logf("%d requests across %d hand-overs, %d failed", total.ok+len(total.errs), hups, len(total.errs))
}
