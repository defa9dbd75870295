package runfcgi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// daemonEnv marks the re-executed daemon and names the descriptor of the
// pipe on which it reports readiness (or its error) to the waiting parent.
const daemonEnv = "APPGEN_RUNFCGI_DAEMON"

// readyLine is what the daemon writes once it listens; anything else it
// writes before closing the pipe is an error for the parent to print.
const readyLine = "ready\n"

// daemonize starts this program again, detached, with the environment env
// (which names the readiness pipe, fd 3), and waits until it listens:
// the parent's exit status then says whether the server really started,
// which a double fork that exits at once cannot. It returns the exit status.
func daemonize(o Options, env []string, stderr io.Writer) int {
	attr, err := detached()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "runfcgi: daemonize: finding this program: %v\n", err)
		return 1
	}
	if o.Umask >= 0 {
		setUmask(o.Umask)
	} else {
		setUmask(0o022)
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintf(stderr, "runfcgi: daemonize: %v\n", err)
		return 1
	}
	defer null.Close()
	stdout, stdoutClose, err := openLog("outlog", o.OutLog, null)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer stdoutClose()
	same := o.ErrLog != "" && o.ErrLog == o.OutLog
	var errOut *os.File
	if same {
		errOut = stdout
	} else {
		var errClose func()
		errOut, errClose, err = openLog("errlog", o.ErrLog, null)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer errClose()
	}
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(stderr, "runfcgi: daemonize: %v\n", err)
		return 1
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, stdout, errOut
	cmd.ExtraFiles = []*os.File{w} // fd 3 in the daemon
	cmd.Env = env
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		fmt.Fprintf(stderr, "runfcgi: daemonize: starting %s: %v\n", exe, err)
		return 1
	}
	w.Close()
	msg, _ := io.ReadAll(r)
	r.Close()
	if string(msg) == readyLine {
		cmd.Process.Release()
		return 0
	}
	// The daemon failed before listening: reap it so no zombie is left for
	// the few moments the parent still lives.
	cmd.Wait()
	if len(bytes.TrimSpace(msg)) == 0 {
		fmt.Fprintf(stderr, "runfcgi: daemonize: the daemon exited before listening (%s)\n", cmd.ProcessState)
		return 1
	}
	fmt.Fprintln(stderr, strings.TrimRight(string(msg), "\n"))
	return 1
}

// openLog opens a daemon's log file for appending, or returns def when no
// file is named.
func openLog(key, path string, def *os.File) (*os.File, func(), error) {
	if path == "" {
		return def, func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		return nil, nil, fmt.Errorf("runfcgi: %s=%s: %w", key, path, err)
	}
	return f, func() { f.Close() }, nil
}

// readyPipe is the daemon's side of the readiness pipe, or nil when this
// process is not a daemon started by daemonize.
type readyPipe struct{ f *os.File }

// takeReadyPipe claims the pipe named by daemonEnv and removes the variable,
// so that processes this one starts (prefork workers) do not see it.
func takeReadyPipe() *readyPipe {
	v, ok := os.LookupEnv(daemonEnv)
	if !ok {
		return nil
	}
	os.Unsetenv(daemonEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil
	}
	closeOnExec(fd)
	return &readyPipe{f: os.NewFile(uintptr(fd), "runfcgi-ready")}
}

func (p *readyPipe) ready() {
	if p == nil || p.f == nil {
		return
	}
	p.f.WriteString(readyLine)
	p.f.Close()
	p.f = nil
}

func (p *readyPipe) fail(err error) {
	if p == nil || p.f == nil {
		return
	}
	fmt.Fprintln(p.f, err)
	p.f.Close()
	p.f = nil
}

// checkPIDFile refuses a pidfile that names another running process: a
// second server started with the pidfile of a live one would overwrite it,
// and the first could then no longer be stopped by it (kill $(cat pidfile)
// would stop the second). A pidfile left by a server that died, or holding
// no pid, is replaced, and so is the pid of the predecessor that handed
// this process its listener on SIGHUP: it serves until this one is ready.
func checkPIDFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		// Missing, or unreadable: writing it will say what is wrong.
		return nil
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || pid == os.Getpid() || pid == predecessor || !processAlive(pid) {
		return nil
	}
	return fmt.Errorf("runfcgi: pidfile=%s holds pid %d, a running process: a server already runs with this pidfile; stop it first (kill %d), or remove the file if that process is not the server", path, pid, pid)
}

// writePIDFile writes pid atomically (a reader never sees a partial file)
// and returns a function that removes it, unless another process has
// replaced it since. It refuses, leaving the file as it is, when the file
// names another running process (checkPIDFile).
func writePIDFile(path string, pid int) (func(), error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("runfcgi: pidfile=%s: %w", path, err)
	}
	if err := checkPIDFile(abs); err != nil {
		return nil, err
	}
	content := strconv.Itoa(pid) + "\n"
	tmp, err := os.CreateTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".*")
	if err != nil {
		return nil, fmt.Errorf("runfcgi: pidfile=%s: %w", path, err)
	}
	_, werr := tmp.WriteString(content)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o644)); err != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("runfcgi: pidfile=%s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), abs); err != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("runfcgi: pidfile=%s: %w", path, err)
	}
	return func() {
		if b, err := os.ReadFile(abs); err == nil && string(b) == content {
			os.Remove(abs)
		}
	}, nil
}
