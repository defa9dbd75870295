//go:build unix

package runfcgi

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pidOf returns the pid= field of a testHandler body.
func pidOf(t *testing.T, body string) int {
	t.Helper()
	var pid int
	for _, f := range strings.Fields(body) {
		if v, ok := strings.CutPrefix(f, "pid="); ok {
			if _, err := fmt.Sscan(v, &pid); err == nil {
				return pid
			}
		}
	}
	t.Fatalf("no pid in %q", body)
	return 0
}

func TestPrefork(t *testing.T) {
	c := newClient(t)
	dir := tempDir(t)
	sock := filepath.Join(dir, "p.sock")
	p := start(t, helper(t, dir, "method=prefork", "socket="+sock, "daemonize=false", "pidfile=p.pid",
		"minspare=1", "maxspare=2", "maxchildren=3", "maxrequests=2", "debug=true"))
	p.waitFor("serving fcgi (method=prefork)")
	master := p.cmd.Process.Pid
	pids := map[int]int{}
	for i := 0; i < 6; i++ {
		body, err := c.get(sock, fmt.Sprintf("/r%d", i))
		if err != nil {
			skipIfServeBug(t, err)
			t.Fatalf("request %d: %v; stderr:\n%s", i, err, p.stderr())
		}
		if !strings.HasSuffix(body, " worker=true") {
			t.Errorf("request %d answered by %q, want a prefork worker", i, body)
		}
		pids[pidOf(t, body)]++
	}
	for pid, n := range pids {
		if pid == master {
			t.Errorf("the master (pid %d) served %d requests; only workers should", pid, n)
		}
		if n > 2 {
			t.Errorf("worker %d served %d requests, more than maxrequests=2", pid, n)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "p.pid")); err != nil || string(b) != fmt.Sprintf("%d\n", master) {
		t.Errorf("pidfile = %q, %v; want the master's pid %d", b, err, master)
	}

	t.Run("SIGHUP loses no request", func(t *testing.T) {
		slow := slowRequest(t, c, p, sock, dir)
		p.signal(syscall.SIGHUP)
		for i := 0; i < 4; i++ {
			if _, err := c.get(sock, "/during"); err != nil {
				skipIfServeBug(t, err)
				t.Errorf("request %d after SIGHUP: %v", i, err)
			}
		}
		release(t, dir)
		if r := <-slow; r.err != nil || r.body != "slow done" {
			t.Errorf("request in flight during SIGHUP = %q, %v; want %q", r.body, r.err, "slow done")
		}
	})

	t.Run("SIGTERM drains", func(t *testing.T) {
		slow := slowRequest(t, c, p, sock, dir)
		p.signal(syscall.SIGTERM)
		p.waitFor("finishing the requests in flight")
		release(t, dir)
		if r := <-slow; r.err != nil || r.body != "slow done" {
			t.Errorf("request in flight during SIGTERM = %q, %v; want %q", r.body, r.err, "slow done")
		}
		if code := p.wait(); code != 0 {
			t.Errorf("exit status = %d, want 0; stderr:\n%s", code, p.stderr())
		}
		for _, name := range []string{"p.sock", "p.pid"} {
			if _, err := os.Lstat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s after exit: %v, want it removed", name, err)
			}
		}
	})
}

// TestPreforkDaemon pins that a daemonized prefork master, not a worker,
// owns the pidfile and the socket, and removes them when it stops.
func TestPreforkDaemon(t *testing.T) {
	c := newClient(t)
	dir := tempDir(t)
	sock := filepath.Join(dir, "m.sock")
	cmd := helper(t, dir, "method=prefork", "socket=m.sock", "pidfile=m.pid", "minspare=1", "maxspare=1", "maxchildren=2")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("daemonize=true parent: %v; output:\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "m.pid"))
	if err != nil {
		t.Fatal(err)
	}
	var master int
	if _, err := fmt.Sscanf(string(b), "%d\n", &master); err != nil {
		t.Fatalf("pidfile holds %q: %v", b, err)
	}
	t.Cleanup(func() { syscall.Kill(master, syscall.SIGKILL) })
	body, err := c.get(sock, "/w")
	if err != nil {
		t.Fatal(err)
	}
	if pid := pidOf(t, body); pid == master || !strings.HasSuffix(body, " worker=true") {
		t.Errorf("GET /w = %q; want a worker's answer, not the master's (pid %d)", body, master)
	}
	if err := syscall.Kill(master, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3000 && !processGone(master); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if !processGone(master) {
		t.Fatal("prefork master still running after SIGTERM")
	}
	for _, name := range []string{"m.pid", "m.sock"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after the master exited: %v, want it removed", name, err)
		}
	}
}
