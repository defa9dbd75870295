package webserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/appgen/appgen/runtime/serverconf"
	"github.com/appgen/appgen/runtime/testsupport/logbuf"
)

// TB is the part of testing.TB this package uses; *testing.T and *testing.B satisfy it.
// Declaring it here keeps the testing package out of binaries that use MainConfig and Check.
type TB interface {
	Helper()
	Cleanup(func())
	Failed() bool
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Logf(format string, args ...any)
	TempDir() string
}

// Require returns the path of program, or skips the test with a message saying which Debian
// package provides it. Under CI=true a missing program fails the test instead: CI must run
// the real-server tests, not skip them quietly.
func Require(t TB, program Program) string {
	t.Helper()
	return RequireProgram(t, string(program))
}

// packages tells which Debian package provides a program, for the skip message.
var packages = map[string]string{
	"nginx":      "nginx",
	"apache2":    "apache2 libapache2-mod-fcgid",
	"lighttpd":   "lighttpd",
	"cgi-fcgi":   "libfcgi-bin",
	"spawn-fcgi": "spawn-fcgi",
	"wrk":        "wrk",
}

// notPackaged says how to get a program Debian does not package, for the skip message.
var notPackaged = map[string]string{
	"cherokee": "Debian has no Cherokee package: build Cherokee 1.2.104 into /opt/cherokee, as .ci/run does, or set " + serverconf.CherokeeEnv + " to its sbin/cherokee",
}

// RequireProgram is Require for any executable (cgi-fcgi, spawn-fcgi, wrk, ...).
func RequireProgram(t TB, program string) string {
	t.Helper()
	p, err := LookPath(program)
	if err == nil {
		return p
	}
	pkg := packages[program]
	if pkg == "" {
		pkg = program
	}
	msg := fmt.Sprintf("%s is not installed (apt-get install %s)", program, pkg)
	if how, ok := notPackaged[program]; ok {
		msg = fmt.Sprintf("%s is not installed (%v; %s)", program, err, how)
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; CI=true requires it", msg)
	}
	t.Skipf("%s; skipping", msg)
	return ""
}

// FreePort returns a free TCP port on 127.0.0.1, or fails the test.
func FreePort(t TB) int {
	t.Helper()
	port, err := FreeAddrPort()
	if err != nil {
		t.Fatalf("%v", err)
	}
	return port
}

// TempDir returns a new temporary directory, removed at cleanup, with mode 0755: nginx's
// workers run as nobody and cannot reach sockets or files inside a 0700 directory.
func TempDir(t TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("webserver: %v", err)
	}
	// t.TempDir's parent is 0700 as well; open it up for the same reason, to the group as
	// well as to others: a process whose group is the directory's (a worker or an app run
	// in root's group 0 by a root master) is judged by the group bits alone, and 0705 shuts
	// it out where it lets nobody else in.
	for p := filepath.Dir(dir); p != os.TempDir() && p != "/" && p != "."; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm()&0o055 == 0o055 {
			break
		}
		if err := os.Chmod(p, fi.Mode().Perm()|0o055); err != nil {
			t.Fatalf("webserver: %v", err)
		}
	}
	return dir
}

// Instance is a running server started by Start.
type Instance struct {
	// Config is the configuration the instance was started with.
	Config Config
	// ConfigPath is the main configuration file.
	ConfigPath string
	// URL is the base URL, "http://127.0.0.1:PORT", without a trailing slash.
	URL string
	// ErrorLogPath is the server's error log.
	ErrorLogPath string

	cmd      *exec.Cmd
	output   *logbuf.Buffer
	exited   chan struct{}
	waitErr  error
	stopOnce sync.Once
}

// StartTimeout bounds how long Start waits for a server to accept connections.
var StartTimeout = 15 * time.Second

// Start checks c with the server's validator, starts the server in the foreground, waits
// until its port accepts connections and returns it. The instance is stopped at cleanup; if
// the test failed, its error log and output are logged. Start fails the test when the
// configuration is rejected or the server does not come up.
func Start(t TB, c Config) *Instance {
	t.Helper()
	exe := Require(t, c.Program)
	if err := Check(c); err != nil {
		t.Fatalf("%v", err)
	}
	inst, err := start(exe, c)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if err := inst.Stop(); err != nil {
			t.Logf("%v", err)
		}
		if t.Failed() {
			t.Logf("%s error log %s:\n%s\noutput:\n%s", c.Program, inst.ErrorLogPath, inst.ErrorLog(), inst.output.String())
		}
	})
	if err := inst.wait(StartTimeout); err != nil {
		t.Fatalf("%v\nerror log:\n%s\noutput:\n%s", err, inst.ErrorLog(), inst.output.String())
	}
	return inst
}

func start(exe string, c Config) (*Instance, error) {
	path := filepath.Join(c.Dir, mainConfigName)
	cmd := exec.Command(exe, RunArgs(c.Program, c.Dir, path)...)
	cmd.Dir = c.Dir
	if c.Program == Cherokee {
		// Cherokee keeps its temporary files (large request bodies) under $TMPDIR.
		cmd.Env = append(os.Environ(), "TMPDIR="+c.Dir)
	}
	out := &logbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so that Stop also reaches the children it spawned (mod_fcgid's
	// applications, lighttpd's bin-path backends) should the server leave them behind.
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("webserver: starting %s: %w", exe, err)
	}
	inst := &Instance{
		Config:       c,
		ConfigPath:   path,
		URL:          "http://127.0.0.1:" + strconv.Itoa(c.Port),
		ErrorLogPath: filepath.Join(c.Dir, errorLogName),
		cmd:          cmd,
		output:       out,
		exited:       make(chan struct{}),
	}
	go func() {
		inst.waitErr = cmd.Wait()
		close(inst.exited)
	}()
	return inst, nil
}

// wait polls the port until it accepts a connection, the server exits, or timeout passes.
func (i *Instance) wait(timeout time.Duration) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(i.Config.Port))
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-i.exited:
			return fmt.Errorf("webserver: %s exited before answering on %s: %v", i.Config.Program, addr, i.waitErr)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("webserver: %s did not accept connections on %s within %v: %v", i.Config.Program, addr, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stopTimeout is how long Stop waits after SIGTERM. It must outlast Apache's own
// escalation: its parent re-sends SIGTERM to a child that has not exited at 3, 5 and 7
// seconds, sends SIGKILL at 9 and gives up at 10, so a ten-second wait raced Apache's
// own deadline and now and then reported a clean stop as a failure.
const stopTimeout = 15 * time.Second

// Stop asks the server's process group to stop (SIGTERM: the server and what it spawned),
// waits up to stopTimeout, then kills the group. Calling it again does nothing.
func (i *Instance) Stop() error {
	var err error
	i.stopOnce.Do(func() {
		terminate(i.cmd.Process)
		select {
		case <-i.exited:
		case <-time.After(stopTimeout):
			err = fmt.Errorf("webserver: %s did not stop within %v of SIGTERM; killed", i.Config.Program, stopTimeout)
		}
		// Whatever is left in the group (spawned applications) goes too.
		killGroup(i.cmd.Process)
		<-i.exited
	})
	return err
}

// Pid returns the server's main process id, which is also its process group's: the workers it
// forks are in that group.
func (i *Instance) Pid() int { return i.cmd.Process.Pid }

// Exited reports whether the server process has ended.
func (i *Instance) Exited() bool {
	select {
	case <-i.exited:
		return true
	default:
		return false
	}
}

// ErrorLog returns the server's error log so far ("" if it has none yet).
func (i *Instance) ErrorLog() string {
	b, err := os.ReadFile(i.ErrorLogPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return ""
		}
		return err.Error()
	}
	return strings.TrimRight(string(b), "\n")
}

// Output returns what the server printed on stdout and stderr so far.
func (i *Instance) Output() string { return i.output.String() }
