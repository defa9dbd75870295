package runfcgi

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/appgen/appgen/runtime/prefork"
)

// A listening socket can come from three places besides listen: systemd
// (socket activation), or the previous runfcgi process, which hands its
// socket over on SIGHUP in the threaded model.

// Socket activation (sd_listen_fds(3)): systemd passes LISTEN_FDS sockets
// from fd 3 up, names them in LISTEN_FDNAMES, and sets LISTEN_PID to the
// process meant to take them.
const (
	listenFDsStart = 3
	inheritEnv     = "APPGEN_RUNFCGI_LISTENER" // fd of the socket the previous process handed over
)

// socketActivated reports whether systemd passed this process sockets.
func socketActivated() bool {
	pid, err := strconv.Atoi(os.Getenv("LISTEN_PID"))
	return err == nil && pid == os.Getpid() && os.Getenv("LISTEN_FDS") != ""
}

// activatedListener takes the socket systemd passed. With several, the one
// named after the program (mysite, FileDescriptorName=) is used. The
// variables are unset so that processes this one starts do not take them.
func activatedListener() (net.Listener, error) {
	fds := os.Getenv("LISTEN_FDS")
	n, err := strconv.Atoi(fds)
	names := strings.Split(os.Getenv("LISTEN_FDNAMES"), ":")
	for _, v := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		os.Unsetenv(v)
	}
	if err != nil || n < 1 {
		return nil, fmt.Errorf("runfcgi: LISTEN_FDS=%q from systemd: want a number of sockets, at least 1", fds)
	}
	fd, err := pickActivated(n, names, poolName())
	if err != nil {
		return nil, err
	}
	for i := range n {
		closeOnExec(listenFDsStart + i)
	}
	f := os.NewFile(uintptr(fd), "systemd-socket")
	l, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("runfcgi: the socket systemd passed on fd %d: %w", fd, err)
	}
	return l, nil
}

// predecessor is the pid of the process that handed this one its listener
// (0: none). It is read when the process starts, before inheritedListener
// clears the variable; the predecessor is this process's parent, since it
// started it.
var predecessor = func() int {
	if _, ok := os.LookupEnv(inheritEnv); ok {
		return os.Getppid()
	}
	return 0
}()

// pickActivated chooses among n passed sockets named names (LISTEN_FDNAMES,
// split at ":") the descriptor to serve: the only one, or the one named
// want.
func pickActivated(n int, names []string, want string) (int, error) {
	if n == 1 {
		return listenFDsStart, nil
	}
	for i, name := range names {
		if name == want && i < n {
			return listenFDsStart + i, nil
		}
	}
	return 0, fmt.Errorf("runfcgi: systemd passed %d sockets named %q; name the one to serve %q (FileDescriptorName=%s in the .socket unit)", n, strings.Join(names, ":"), want, want)
}

// inheritedListener takes the socket a previous process handed over, if
// any.
func inheritedListener() (net.Listener, bool, error) {
	v, ok := os.LookupEnv(inheritEnv)
	if !ok {
		return nil, false, nil
	}
	os.Unsetenv(inheritEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil, true, fmt.Errorf("runfcgi: %s=%q: want a descriptor number of 3 or more", inheritEnv, v)
	}
	closeOnExec(fd)
	f := os.NewFile(uintptr(fd), "runfcgi-inherited")
	l, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return nil, true, fmt.Errorf("runfcgi: the socket handed over on fd %d: %w", fd, err)
	}
	return l, true, nil
}

// listener opens what standalone serves: a socket handed over by the
// previous process, or passed by systemd, or the address of the options.
func (r *run) listener() (*listening, error) {
	l, ok, err := inheritedListener()
	if err != nil {
		return nil, err
	}
	if ok {
		ln := &listening{l: l}
		// The socket file, if any, becomes this process's to remove when it
		// stops for good, as it was its predecessor's, once it serves: a
		// process that fails to start must leave it to the old one.
		if r.o.Socket != "" {
			if abs, err := filepath.Abs(r.o.Socket); err == nil {
				if fi, err := os.Lstat(abs); err == nil {
					r.claimSocket = func() { ln.socketPath, ln.socketInfo = abs, fi }
				}
			}
		}
		return ln, nil
	}
	if socketActivated() {
		l, err := activatedListener()
		if err != nil {
			return nil, err
		}
		if !r.o.DefaultAddress {
			r.log.Printf("runfcgi: serving the socket systemd passed (%s); host=, port= and socket= are not used", l.Addr())
		}
		// systemd owns the socket file: it outlives this process.
		return &listening{l: l, heldElsewhere: true}, nil
	}
	return listen(r.o)
}

// handOff starts this program again from the binary now on disk, handing
// it the listening socket, and waits until it serves. On success (nil) the
// caller drains and exits; on failure it has logged why, the error says it,
// and the caller goes on serving. The new process writes the pidfile; ln's
// socket file becomes its to remove.
func (r *run) handOff(ctx context.Context, ln *listening) error {
	fail := func(format string, args ...any) error {
		err := fmt.Errorf("runfcgi: SIGHUP: "+format+"; the old process goes on serving", args...)
		r.log.Print(err)
		// The new process may have written the pidfile before it failed,
		// and removed it on its way out: it names this process again.
		if r.o.PIDFile != "" {
			path := r.o.PIDFile
			if !filepath.IsAbs(path) {
				path = filepath.Join(r.startDir, path)
			}
			if _, err := writePIDFile(path, os.Getpid()); err != nil {
				r.log.Print(err)
			}
		}
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fail("finding this program: %v", err)
	}
	sock, err := prefork.ListenerFile(ln.l)
	if err != nil {
		return fail("%v", err)
	}
	defer sock.Close()
	rd, wr, err := os.Pipe()
	if err != nil {
		return fail("%v", err)
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Dir = r.startDir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{sock, wr} // fds 3 and 4
	cmd.Env = r.childEnv(inheritEnv+"=3", daemonEnv+"=4")
	if err := cmd.Start(); err != nil {
		rd.Close()
		wr.Close()
		return fail("starting %s: %v", exe, err)
	}
	wr.Close()
	read := make(chan []byte, 1)
	go func() {
		msg, _ := io.ReadAll(rd)
		read <- msg
	}()
	var msg []byte
	select {
	case msg = <-read:
	case <-ctx.Done():
		// Stopping wins: the new process is not wanted any more.
		cmd.Process.Kill()
		msg = <-read
		cmd.Wait()
		rd.Close()
		return fail("stopped before the new process was ready")
	}
	rd.Close()
	if string(msg) != readyLine {
		cmd.Wait()
		why := strings.TrimSpace(string(msg))
		if why == "" {
			why = "it exited before serving (" + cmd.ProcessState.String() + ")"
		}
		return fail("the new process failed: %s", why)
	}
	r.log.Printf("runfcgi: SIGHUP: pid %d serves now; finishing the requests in flight here", cmd.Process.Pid)
	cmd.Process.Release()
	ln.socketPath = ""
	return nil
}
