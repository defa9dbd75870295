//go:build unix

package runfcgi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"net"
	"net/http"
	"net/http/fcgi"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/gateway"
	"github.com/appgen/appgen/runtime/prefork"
)

// helperEnv makes the test binary run Main with its arguments instead of the
// tests: the process tests start it as "the project's binary".
const helperEnv = "RUNFCGI_TEST_HELPER"

// dirEnv names the directory where the helper's /slow handler marks that it
// started and waits to be released.
const dirEnv = "RUNFCGI_TEST_DIR"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "1":
		os.Exit(Main(os.Args[1:], Site{Handler: testHandler(), Defaults: projectDefaults}))
	case "peer":
		// The benchmarks' peer: Go's net/http/fcgi with the same handler.
		l, err := net.Listen("unix", os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fcgi.Serve(l, testHandler())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testHandler answers "/" with what the tests check, and "/slow" only once
// the test creates the file "release".
func testHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		dir := os.Getenv(dirEnv)
		os.WriteFile(filepath.Join(dir, "started"), nil, 0o644)
		// Bounded, so a broken test cannot leave the helper running.
		for i := 0; i < 6000; i++ {
			if _, err := os.Stat(filepath.Join(dir, "release")); err == nil {
				fmt.Fprint(w, "slow done")
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		http.Error(w, "never released", http.StatusInternalServerError)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		wd, _ := os.Getwd()
		fmt.Fprintf(w, "path=%s script=%s pid=%d wd=%s worker=%t", r.URL.Path, gateway.ScriptName(r), os.Getpid(), wd, prefork.IsWorker())
	})
	return mux
}

// proc is a running helper whose stderr lines the test can wait for.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	mu   sync.Mutex
	errb bytes.Buffer
	news chan struct{} // signalled on every stderr line
	done chan struct{} // closed when stderr reaches EOF
}

// helper makes the command that runs Main with args in dir.
func helper(t testing.TB, dir string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), helperEnv+"=1", dirEnv+"="+dir)
	return cmd
}

func start(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{t: t, cmd: cmd, news: make(chan struct{}, 1), done: make(chan struct{})}
	r, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			p.mu.Lock()
			p.errb.WriteString(s.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.news <- struct{}{}:
			default:
			}
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return p
}

func (p *proc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errb.String()
}

// waitFor waits until the helper has logged want. The limit only keeps a
// broken helper from hanging the test; nothing is measured by it.
func (p *proc) waitFor(want string) { p.t.Helper(); p.waitForN(want, 1) }

// waitForN waits until the helper has logged want n times.
func (p *proc) waitForN(want string, n int) {
	p.t.Helper()
	limit := time.After(30 * time.Second)
	for strings.Count(p.stderr(), want) < n {
		select {
		case <-p.news:
		case <-p.done:
			if strings.Count(p.stderr(), want) < n {
				p.t.Fatalf("helper exited without logging %q %d times; stderr:\n%s", want, n, p.stderr())
			}
		case <-limit:
			p.t.Fatalf("helper did not log %q; stderr:\n%s", want, p.stderr())
		}
	}
}

// wait waits for the helper to exit and returns its exit status.
func (p *proc) wait() int {
	p.t.Helper()
	<-p.done
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		p.t.Fatal(err)
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *proc) signal(s os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(s); err != nil {
		p.t.Fatal(err)
	}
}

// tempDir is a short directory (unix socket paths are limited) that nginx's
// or Apache's unprivileged workers could enter.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rf")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// freePort returns a loopback port nothing listens on at the moment.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func release(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "release"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// slowRequest starts GET /slow and returns once its handler runs.
func slowRequest(t *testing.T, c client, p *proc, addr, dir string) <-chan result {
	t.Helper()
	// A skipped or failed earlier subtest may have left these behind.
	os.Remove(filepath.Join(dir, "started"))
	os.Remove(filepath.Join(dir, "release"))
	done := make(chan result, 1)
	go func() {
		body, err := c.get(addr, "/slow")
		done <- result{body, err}
	}()
	limit := time.After(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
			return done
		}
		select {
		case r := <-done:
			skipIfServeBug(t, r.err)
			t.Fatalf("slow request ended before its handler started: %q, %v; stderr:\n%s", r.body, r.err, p.stderr())
		case <-limit:
			t.Fatalf("slow request's handler did not start; stderr:\n%s", p.stderr())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

type result struct {
	body string
	err  error
}

func TestThreadedTCP(t *testing.T) {
	c := newClient(t)
	dir := tempDir(t)
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p := start(t, helper(t, dir, "method=threaded", "host=127.0.0.1", fmt.Sprint("port=", port), "daemonize=false", "debug=true"))
	p.waitFor("serving fcgi (method=threaded) on " + addr)
	body, err := c.get(addr, "/hello")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("path=/hello script= pid=%d wd=%s worker=false", p.cmd.Process.Pid, dir); body != want {
		t.Errorf("GET /hello = %q, want %q", body, want)
	}
	p.waitFor("GET /hello 200")
	p.signal(syscall.SIGTERM)
	if code := p.wait(); code != 0 {
		t.Errorf("exit status after SIGTERM = %d, want 0; stderr:\n%s", code, p.stderr())
	}
}

func TestUnixSocket(t *testing.T) {
	t.Run("stale socket removed, mode from umask, removed on exit", func(t *testing.T) {
		c := newClient(t)
		dir := tempDir(t)
		sock := filepath.Join(dir, "s.sock")
		stale, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		stale.(*net.UnixListener).SetUnlinkOnClose(false)
		stale.Close()
		p := start(t, helper(t, dir, "method=threaded", "socket="+sock, "daemonize=false", "umask=027", "debug=true"))
		p.waitFor("serving fcgi")
		fi, err := os.Lstat(sock)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o750 {
			t.Errorf("socket mode = %o, want 750 (0777 &^ umask 027)", got)
		}
		if _, err := c.get(sock, "/x"); err != nil {
			t.Fatal(err)
		}
		p.signal(syscall.SIGINT)
		if code := p.wait(); code != 0 {
			t.Errorf("exit status after SIGINT = %d, want 0; stderr:\n%s", code, p.stderr())
		}
		if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket file after exit: %v, want it removed", err)
		}
	})
	t.Run("live socket refused", func(t *testing.T) {
		dir := tempDir(t)
		sock := filepath.Join(dir, "s.sock")
		live, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer live.Close()
		p := start(t, helper(t, dir, "method=threaded", "socket="+sock, "daemonize=false"))
		if code := p.wait(); code != 1 {
			t.Errorf("exit status = %d, want 1", code)
		}
		if want := "is in use by a running server"; !strings.Contains(p.stderr(), want) {
			t.Errorf("stderr = %q, want it to contain %q", p.stderr(), want)
		}
		if c, err := net.Dial("unix", sock); err != nil {
			t.Errorf("the live socket no longer answers: %v", err)
		} else {
			c.Close()
		}
	})
	t.Run("regular file refused", func(t *testing.T) {
		dir := tempDir(t)
		path := filepath.Join(dir, "data")
		if err := os.WriteFile(path, []byte("keep me"), 0o644); err != nil {
			t.Fatal(err)
		}
		p := start(t, helper(t, dir, "method=threaded", "socket="+path, "daemonize=false"))
		if code := p.wait(); code != 1 {
			t.Errorf("exit status = %d, want 1", code)
		}
		if want := "exists and is not a socket"; !strings.Contains(p.stderr(), want) {
			t.Errorf("stderr = %q, want it to contain %q", p.stderr(), want)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != "keep me" {
			t.Errorf("file after the refusal: %q, %v; want it untouched", b, err)
		}
	})
}

// spawn starts the helper as mod_fcgid does: the listening socket on stdin.
func spawn(t *testing.T, dir string, env []string, args ...string) (*proc, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	defer f.Close()
	cmd := helper(t, dir, args...)
	cmd.Stdin = f
	cmd.Env = append(cmd.Env, env...)
	return start(t, cmd), addr
}

func TestSpawned(t *testing.T) {
	t.Run("serves on fd 0 and honours FCGI_WEB_SERVER_ADDRS", func(t *testing.T) {
		c := newClient(t)
		dir := tempDir(t)
		p, addr := spawn(t, dir, []string{"FCGI_WEB_SERVER_ADDRS=192.0.2.7, 127.0.0.1"}, "method=threaded", "debug=true")
		p.waitFor("serving fcgi (method=threaded) on " + addr)
		if _, err := c.get(addr, "/allowed"); err != nil {
			t.Fatalf("request from 127.0.0.1: %v", err)
		}
		// A peer outside the list is closed before a byte is read.
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
		conn, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if n, err := conn.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("read from the refused connection = %d, %v; want io.EOF", n, err)
		}
		p.waitFor("127.0.0.2:")
		p.waitFor("refused: not in FCGI_WEB_SERVER_ADDRS")
		p.signal(syscall.SIGTERM)
		if code := p.wait(); code != 0 {
			t.Errorf("exit status = %d, want 0; stderr:\n%s", code, p.stderr())
		}
	})
	t.Run("maxrequests restarts a spawned threaded process in place", func(t *testing.T) {
		c := newClient(t)
		dir := tempDir(t)
		p, addr := spawn(t, dir, nil, "method=threaded", "maxrequests=2", "debug=true")
		for i := 0; i < 5; i++ {
			body, err := c.get(addr, "/")
			if err != nil {
				t.Fatalf("request %d: %v; stderr:\n%s", i+1, err, p.stderr())
			}
			if pid := pidOf(t, body); pid != p.cmd.Process.Pid {
				t.Errorf("request %d answered by pid %d, want the spawned process %d", i+1, pid, p.cmd.Process.Pid)
			}
		}
		// Five requests: two images retired after two each, the third serving.
		p.waitForN("served maxrequests=2; restarting after the requests in flight", 2)
		p.waitForN("serving fcgi (method=threaded)", 3)
		p.signal(syscall.SIGTERM)
		if code := p.wait(); code != 0 {
			t.Errorf("exit status = %d, want 0; stderr:\n%s", code, p.stderr())
		}
	})
	t.Run("bad FCGI_WEB_SERVER_ADDRS", func(t *testing.T) {
		p, _ := spawn(t, tempDir(t), []string{"FCGI_WEB_SERVER_ADDRS=localhost"}, "method=threaded")
		if code := p.wait(); code != 1 {
			t.Errorf("exit status = %d, want 1", code)
		}
		if want := `FCGI_WEB_SERVER_ADDRS entry "localhost" is not an IP address`; !strings.Contains(p.stderr(), want) {
			t.Errorf("stderr = %q, want %q", p.stderr(), want)
		}
	})
}

func TestCGIFallback(t *testing.T) {
	dir := tempDir(t)
	cmd := helper(t, dir, "method=threaded")
	cmd.Env = append(cmd.Env,
		"GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=GET", "SERVER_PROTOCOL=HTTP/1.1",
		"SERVER_NAME=example.com", "SERVER_PORT=80", "REMOTE_ADDR=192.0.2.1",
		"SCRIPT_NAME=/mysite.fcgi", "PATH_INFO=/foo/bar", "QUERY_STRING=a=1",
		"REQUEST_URI=/mysite.fcgi/foo/bar?a=1",
	)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("CGI run: %v; stderr:\n%s", err, errb.String())
	}
	head, body, ok := strings.Cut(out.String(), "\r\n\r\n")
	if !ok {
		t.Fatalf("CGI output has no header end: %q", out.String())
	}
	if !strings.Contains(head, "Status: 200 OK") && !strings.HasPrefix(head, "Content-Type") {
		t.Errorf("CGI header = %q, want a 200 response", head)
	}
	if want := fmt.Sprintf("path=/foo/bar script=/mysite.fcgi pid=%d wd=%s worker=false", cmd.Process.Pid, dir); body != want {
		t.Errorf("CGI body = %q, want %q", body, want)
	}
}

func TestSIGTERMDrains(t *testing.T) {
	c := newClient(t)
	dir := tempDir(t)
	sock := filepath.Join(dir, "s.sock")
	p := start(t, helper(t, dir, "method=threaded", "socket="+sock, "daemonize=false", "pidfile=p.pid", "debug=true"))
	p.waitFor("serving fcgi")
	if _, err := os.Stat(filepath.Join(dir, "p.pid")); err != nil {
		t.Fatalf("pidfile while serving: %v", err)
	}
	slow := slowRequest(t, c, p, sock, dir)
	p.signal(syscall.SIGTERM)
	p.waitFor("finishing the requests in flight")
	release(t, dir)
	r := <-slow
	if r.err != nil || r.body != "slow done" {
		t.Errorf("in-flight request during SIGTERM = %q, %v; want %q", r.body, r.err, "slow done")
	}
	if code := p.wait(); code != 0 {
		t.Errorf("exit status = %d, want 0; stderr:\n%s", code, p.stderr())
	}
	for _, name := range []string{"s.sock", "p.pid"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after exit: %v, want it removed", name, err)
		}
	}
}

func TestWatch(t *testing.T) {
	c := newClient(t)
	dir := tempDir(t)
	script := filepath.Join(dir, "mysite.fcgi")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A relative path, and a workdir elsewhere: the file is still found.
	p, addr := spawn(t, dir, nil, "method=threaded", "watch=mysite.fcgi", "workdir=/", "debug=true")
	p.waitFor("serving fcgi")
	slow := slowRequest(t, c, p, addr, dir)
	// touch, with a time no file system rounds to the old one.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(script, later, later); err != nil {
		t.Fatal(err)
	}
	p.waitFor("mysite.fcgi changed; restarting after the requests in flight")
	release(t, dir)
	if r := <-slow; r.err != nil || r.body != "slow done" {
		t.Errorf("in-flight request during the restart = %q, %v; want %q", r.body, r.err, "slow done")
	}
	// The process image is replaced, pid and socket kept.
	p.waitForN("serving fcgi (method=threaded)", 2)
	body, err := c.get(addr, "/after")
	if err != nil {
		t.Fatal(err)
	}
	if pid := pidOf(t, body); pid != p.cmd.Process.Pid {
		t.Errorf("after the restart pid %d answered, want the same process %d", pid, p.cmd.Process.Pid)
	}
	p.signal(syscall.SIGTERM)
	if code := p.wait(); code != 0 {
		t.Errorf("exit status = %d, want 0; stderr:\n%s", code, p.stderr())
	}
}

func TestDaemonize(t *testing.T) {
	t.Run("detaches, writes and removes the pidfile", func(t *testing.T) {
		c := newClient(t)
		dir := tempDir(t)
		work := filepath.Join(dir, "work")
		if err := os.Mkdir(work, 0o755); err != nil {
			t.Fatal(err)
		}
		sock := filepath.Join(dir, "d.sock")
		cmd := helper(t, dir, "method=threaded", "socket=d.sock", "pidfile=d.pid", "workdir="+work, "errlog=err.log", "debug=true")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("daemonize=true parent: %v; stderr:\n%s", err, errb.String())
		}
		b, err := os.ReadFile(filepath.Join(dir, "d.pid"))
		if err != nil {
			t.Fatalf("pidfile after the parent exited: %v", err)
		}
		var pid int
		if _, err := fmt.Sscanf(string(b), "%d\n", &pid); err != nil || pid == cmd.Process.Pid {
			t.Fatalf("pidfile holds %q; want the daemon's pid, not the parent's %d", b, cmd.Process.Pid)
		}
		t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
		body, err := c.get(sock, "/d")
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("path=/d script= pid=%d wd=%s worker=false", pid, work); body != want {
			t.Errorf("GET /d = %q, want %q", body, want)
		}
		if sid, err := getsid(pid); runtime.GOOS == "linux" && (err != nil || sid != pid) {
			t.Errorf("daemon session = %d, %v; want its own session %d", sid, err, pid)
		}
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		gone := false
		for i := 0; i < 3000 && !gone; i++ {
			gone = processGone(pid)
			if !gone {
				time.Sleep(10 * time.Millisecond)
			}
		}
		if !gone {
			t.Fatal("daemon still running after SIGTERM")
		}
		for _, name := range []string{"d.pid", "d.sock"} {
			if _, err := os.Lstat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s after the daemon exited: %v, want it removed", name, err)
			}
		}
		log, _ := os.ReadFile(filepath.Join(dir, "err.log"))
		if !strings.Contains(string(log), "GET /d 200") {
			t.Errorf("errlog = %q, want the debug log of GET /d", log)
		}
	})
	t.Run("the parent reports the daemon's error", func(t *testing.T) {
		dir := tempDir(t)
		cmd := helper(t, dir, "method=threaded", "socket="+filepath.Join(dir, "missing", "d.sock"))
		var errb bytes.Buffer
		cmd.Stderr = &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("parent exit: %v, want status 1; stderr:\n%s", err, errb.String())
		}
		if want := "runfcgi: listening on socket"; !strings.Contains(errb.String(), want) {
			t.Errorf("parent stderr = %q, want it to contain %q", errb.String(), want)
		}
	})
}

// zombie reports whether pid has exited but was not reaped yet.
func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	var state string
	fmt.Sscan(string(b[bytes.LastIndexByte(b, ')')+1:]), &state)
	return state == "Z"
}

func getsid(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses: state, ppid,
	// pgrp, session.
	rest := string(b[bytes.LastIndexByte(b, ')')+1:])
	var state string
	var ppid, pgrp, sid int
	_, err = fmt.Sscan(rest, &state, &ppid, &pgrp, &sid)
	return sid, err
}

func TestMainExitStatus(t *testing.T) {
	h := http.NotFoundHandler()
	tests := []struct {
		name       string
		args       []string
		handler    http.Handler
		code       int
		out, inErr string
	}{
		{"help", []string{"help"}, h, 0, "runfcgi [key=value ...]", ""},
		{"usage error", []string{"port=x"}, h, 2, "", `runfcgi: port="x": want a number from 1 to 65535`},
		{"unknown key", []string{"x=1"}, h, 2, "", `runfcgi: unknown key "x"`},
		{"nil handler", []string{"daemonize=false"}, nil, 1, "", "runfcgi: Site.Handler is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(tt.args, Site{Handler: tt.handler, Defaults: projectDefaults, Stdout: &out, Stderr: &errb})
			if code != tt.code {
				t.Errorf("Main(%q) = %d, want %d; stderr %q", tt.args, code, tt.code, errb.String())
			}
			if !strings.Contains(out.String(), tt.out) {
				t.Errorf("stdout = %q, want %q", out.String(), tt.out)
			}
			if !strings.Contains(errb.String(), tt.inErr) || strings.Count(errb.String(), "\n") > 1 {
				t.Errorf("stderr = %q, want one line containing %q", errb.String(), tt.inErr)
			}
		})
	}
}

// TestOtherProtocols checks that protocol= picks the SCGI and AJP servers,
// with a request each speaks and FastCGI does not.
func TestOtherProtocols(t *testing.T) {
	scgiRequest := func() []byte {
		h := "CONTENT_LENGTH\x000\x00SCGI\x001\x00REQUEST_METHOD\x00GET\x00REQUEST_URI\x00/scgi\x00"
		return []byte(fmt.Sprintf("%d:%s,", len(h), h))
	}
	tests := []struct {
		protocol string
		send     []byte
		want     string // the start of the reply
	}{
		{"scgi", scgiRequest(), "Status: 200 OK\r\n"},
		{"ajp", []byte{0x12, 0x34, 0x00, 0x01, 0x0a}, "AB\x00\x01\x09"}, // CPing, CPong
	}
	for _, tt := range tests {
		t.Run(tt.protocol, func(t *testing.T) {
			dir := tempDir(t)
			port := freePort(t)
			addr := fmt.Sprintf("127.0.0.1:%d", port)
			p := start(t, helper(t, dir, "protocol="+tt.protocol, "method=threaded", "host=127.0.0.1", fmt.Sprint("port=", port), "daemonize=false", "debug=true"))
			p.waitFor("serving " + tt.protocol + " (method=threaded) on " + addr)
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write(tt.send); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(tt.want))
			if _, err := io.ReadFull(conn, got); err != nil || string(got) != tt.want {
				t.Errorf("reply = %q, %v; want %q", got, err, tt.want)
			}
			p.signal(syscall.SIGTERM)
			if code := p.wait(); code != 0 {
				t.Errorf("exit status = %d, want 0; stderr:\n%s", code, p.stderr())
			}
		})
	}
}

// processGone reports whether pid has exited; a zombie has, and waits for
// its new parent (init, which reaps when it gets round to it).
func processGone(pid int) bool {
	return syscall.Kill(pid, 0) == syscall.ESRCH || zombie(pid)
}

// TestWatchStandalone pins that a process that opened its own socket exits
// 0 after its in-flight request when the watched file changes, and removes
// its socket file: nothing would keep its socket while it re-executed.
func TestWatchStandalone(t *testing.T) {
	c := newClient(t)
	dir := tempDir(t)
	sock := filepath.Join(dir, "w.sock")
	watched := filepath.Join(dir, "reload")
	if err := os.WriteFile(watched, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p := start(t, helper(t, dir, "method=threaded", "socket="+sock, "daemonize=false", "watch=reload", "debug=true"))
	p.waitFor("serving fcgi")
	slow := slowRequest(t, c, p, sock, dir)
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(watched, later, later); err != nil {
		t.Fatal(err)
	}
	p.waitFor("reload changed; exiting after the requests in flight")
	release(t, dir)
	if r := <-slow; r.err != nil || r.body != "slow done" {
		t.Errorf("in-flight request = %q, %v; want %q", r.body, r.err, "slow done")
	}
	if code := p.wait(); code != 0 {
		t.Errorf("exit status = %d, want 0; stderr:\n%s", code, p.stderr())
	}
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket after exit: %v, want it removed", err)
	}
}
