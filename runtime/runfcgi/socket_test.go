//go:build unix

package runfcgi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/middleware"
	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// daemon runs the helper with daemonize=true and pidfile=NAME.pid in dir,
// and returns the daemon's pid; the daemon is stopped at cleanup.
func daemon(t *testing.T, dir, name string, args ...string) (pid int, output string) {
	t.Helper()
	return runDaemon(t, helper(t, dir, append(args, "pidfile="+name+".pid")...), filepath.Join(dir, name+".pid"))
}

// runDaemon runs cmd, a helper that daemonizes writing pidfile, and returns the daemon's pid
// and what the parent printed; the daemon is stopped at cleanup.
func runDaemon(t *testing.T, cmd *exec.Cmd, pidfile string) (pid int, output string) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("daemonize=true parent: %v; output:\n%s", err, out)
	}
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscan(string(b), &pid); err != nil {
		t.Fatalf("pidfile holds %q", b)
	}
	t.Cleanup(func() {
		syscall.Kill(pid, syscall.SIGTERM)
		for i := 0; i < 3000 && !processGone(pid); i++ {
			time.Sleep(10 * time.Millisecond)
		}
	})
	return pid, string(out)
}

// TestSocketMode pins issue 10's "the socket is srwxr-xr-x and nginx's
// worker gets Permission denied": the socket is 0660 by default, takes
// socket_mode= and socket_group=, and is never reachable by others while it
// is being set up.
func TestSocketMode(t *testing.T) {
	groups, err := os.Getgroups()
	if err != nil {
		t.Fatal(err)
	}
	other := os.Getgid()
	for _, g := range append(groups, 65534) {
		if g != os.Getgid() && (os.Getuid() == 0 || g != 65534) {
			other = g
			break
		}
	}
	tests := []struct {
		name  string
		args  []string
		mode  os.FileMode
		group int
	}{
		{"default 0660", nil, 0o660, os.Getgid()},
		{"socket_mode", []string{"socket_mode=0600"}, 0o600, os.Getgid()},
		{"socket_group by number", []string{"socket_group=" + strconv.Itoa(other), "socket_mode=0666"}, 0o666, other},
	}
	if g, err := user.LookupGroupId(strconv.Itoa(other)); err == nil {
		tests = append(tests, struct {
			name  string
			args  []string
			mode  os.FileMode
			group int
		}{"socket_group by name", []string{"socket_group=" + g.Name}, 0o660, other})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tempDir(t)
			daemon(t, dir, "s", append([]string{"method=threaded", "socket=s.sock", "umask=000"}, tt.args...)...)
			fi, err := os.Lstat(filepath.Join(dir, "s.sock"))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != tt.mode {
				t.Errorf("socket mode = %v, want socket %v", fi.Mode(), tt.mode)
			}
			if gid := int(fi.Sys().(*syscall.Stat_t).Gid); gid != tt.group {
				t.Errorf("socket group = %d, want %d", gid, tt.group)
			}
		})
	}
	t.Run("unknown group", func(t *testing.T) {
		dir := tempDir(t)
		cmd := helper(t, dir, "method=threaded", "socket=s.sock", "socket_group=no-such-group-h4")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "runfcgi: socket_group=no-such-group-h4:") {
			t.Errorf("unknown socket_group: %v, output %q; want status 1 naming socket_group", err, out)
		}
		if _, err := os.Lstat(filepath.Join(dir, "s.sock")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket left behind: %v", err)
		}
	})
}

// TestSocketGroupNginx runs the deployment issue 10 asks for: nginx's
// workers run as another user (nobody, group nogroup, when nginx starts as
// root) and reach the site's socket only through its group. Without
// socket_group they are refused (the socket is 0660, not world-writable);
// with socket_group=nogroup they get the page. The site is hand-written with
// nginx's own fastcgi_params: the runtime module cannot import deploy, and
// only the socket's permissions matter here.
func TestSocketGroupNginx(t *testing.T) {
	webserver.Require(t, webserver.Nginx)
	if os.Getuid() != 0 {
		t.Skip("nginx's workers run as the test's own user unless it is root; the group boundary cannot be shown")
	}
	if _, err := user.LookupGroup("nogroup"); err != nil {
		t.Skipf("no group nogroup for nginx's workers: %v", err)
	}
	for _, tt := range []struct {
		name   string
		args   []string
		status int
	}{
		{"socket_group=nogroup", []string{"socket_group=nogroup"}, http.StatusOK},
		{"default: other users refused", nil, http.StatusBadGateway},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := webserver.TempDir(t)
			sock := filepath.Join(dir, "app.sock")
			daemon(t, dir, "app", append([]string{"method=threaded", "socket=" + sock}, tt.args...)...)
			port := webserver.FreePort(t)
			inst := webserver.Start(t, webserver.Config{
				Program: webserver.Nginx,
				Dir:     dir,
				Port:    port,
				Site: fmt.Sprintf(`server {
    listen 127.0.0.1:%d;
    location / {
        include /etc/nginx/fastcgi_params;
        fastcgi_pass unix:%s;
    }
}
`, port, sock),
			})
			resp, err := http.Get(inst.URL + "/g")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("GET /g through nginx = %d %q, want %d", resp.StatusCode, body, tt.status)
			}
			if tt.status == http.StatusBadGateway && !strings.Contains(inst.ErrorLog(), "Permission denied") {
				t.Errorf("nginx error log lacks Permission denied:\n%s", inst.ErrorLog())
			}
		})
	}
}

// TestPIDFileOfLiveDaemon pins issue 10's "a second daemon given the
// pidfile of a live one": it must refuse, create no socket, and leave the
// pidfile naming the first daemon, which still serves.
func TestPIDFileOfLiveDaemon(t *testing.T) {
	for _, daemonize := range []string{"true", "false"} {
		t.Run("daemonize="+daemonize, func(t *testing.T) {
			dir := tempDir(t)
			first, _ := daemon(t, dir, "d", "method=threaded", "socket=one.sock")
			before, _ := os.ReadFile(filepath.Join(dir, "d.pid"))
			cmd := helper(t, dir, "method=threaded", "socket=two.sock", "pidfile=d.pid", "daemonize="+daemonize)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("second daemon: %v, output %q; want exit status 1", err, out)
			}
			if want := fmt.Sprintf("pidfile=d.pid holds pid %d, a running process", first); !strings.Contains(string(out), want) {
				t.Errorf("second daemon said %q, want %q", out, want)
			}
			after, _ := os.ReadFile(filepath.Join(dir, "d.pid"))
			if !bytes.Equal(before, after) {
				t.Errorf("pidfile changed from %q to %q", before, after)
			}
			if _, err := os.Lstat(filepath.Join(dir, "two.sock")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the second daemon created its socket: %v", err)
			}
			if processGone(first) {
				t.Error("the first daemon is gone")
			}
		})
	}
	t.Run("a stale pidfile is replaced", func(t *testing.T) {
		dir := tempDir(t)
		// A pid that exited: this test's own child, reaped.
		dead := exec.Command("true")
		if err := dead.Run(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "d.pid"), []byte(fmt.Sprintf("%d\n", dead.Process.Pid)), 0o644); err != nil {
			t.Fatal(err)
		}
		pid, _ := daemon(t, dir, "d", "method=threaded", "socket=s.sock")
		if pid == dead.Process.Pid {
			t.Errorf("pidfile still holds the dead pid %d", pid)
		}
	})
}

// TestWarningsReachTheTerminal pins issue 10's "the
// threaded-ignores-maxrequests warning reaches only errlog": the parent
// that daemonizes prints it before it returns.
func TestWarningsReachTheTerminal(t *testing.T) {
	dir := tempDir(t)
	_, out := daemon(t, dir, "w", "method=threaded", "socket=w.sock", "maxrequests=10", "errlog=w.log")
	if !strings.Contains(out, "maxrequests=10 is ignored with method=threaded") {
		t.Errorf("terminal output = %q, want the maxrequests warning", out)
	}
}

// TestDebugLogsOnce pins issue 10's "runfcgi debug=true logs each request
// once, not twice": a site whose chain has its own Logger is logged by it
// alone; a site without one is logged by debug=true.
func TestDebugLogsOnce(t *testing.T) {
	var runLog, siteLog bytes.Buffer
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	for _, tt := range []struct {
		name        string
		site        http.Handler
		runN, siteN int
	}{
		{"site with its own logger", middleware.Logger(log.New(&siteLog, "", 0))(ok), 0, 1},
		{"site without one", ok, 1, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			runLog.Reset()
			siteLog.Reset()
			r := &run{o: Options{Debug: true}, site: Site{Handler: tt.site}, log: log.New(&runLog, "", 0)}
			r.handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
			if n := strings.Count(runLog.String(), "GET /x"); n != tt.runN {
				t.Errorf("runfcgi's log has %d lines for GET /x, want %d: %q", n, tt.runN, runLog.String())
			}
			if n := strings.Count(siteLog.String(), "GET /x"); n != tt.siteN {
				t.Errorf("the site's log has %d lines for GET /x, want %d: %q", n, tt.siteN, siteLog.String())
			}
		})
	}
}

// TestPreflight pins that Site.Preflight runs before anything listens: its
// error stops runfcgi with status 1 and no socket, its warnings are printed.
func TestPreflight(t *testing.T) {
	dir := tempDir(t)
	sock := filepath.Join(dir, "p.sock")
	var errb bytes.Buffer
	called := 0
	code := Main([]string{"socket=" + sock, "daemonize=false"}, Site{
		Handler: http.NotFoundHandler(),
		Stderr:  &errb,
		Preflight: func(o Options) ([]string, error) {
			called++
			if o.Socket != sock {
				t.Errorf("Preflight got socket %q, want %q", o.Socket, sock)
			}
			return []string{"runfcgi: warning: w1"}, errors.New("settings: refused")
		},
	})
	if code != 1 || called != 1 {
		t.Errorf("Main = %d with Preflight called %d times, want 1 and 1", code, called)
	}
	if want := "runfcgi: warning: w1\nsettings: refused\n"; errb.String() != want {
		t.Errorf("stderr = %q, want %q", errb.String(), want)
	}
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket after a refused preflight: %v", err)
	}
}
