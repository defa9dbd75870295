//go:build unix

package runfcgi

import (
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// stopSignals stop the process gracefully.
var stopSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT}

// hangup is the reload signal: caught so that it never kills a threaded
// server with requests in flight.
var hangup os.Signal = syscall.SIGHUP

func setUmask(mask int) { syscall.Umask(mask) }

// withUmask runs f under mask and restores the umask before it was.
func withUmask(mask int, f func()) {
	old := syscall.Umask(mask)
	defer syscall.Umask(old)
	f()
}

// isListeningSocket reports whether fd is a socket in the listening state:
// how a web server that spawns FastCGI applications hands over its socket.
// A connected socket or a pipe on stdin (a CGI request body) is not one.
func isListeningSocket(fd int) bool {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFSOCK {
		return false
	}
	v, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ACCEPTCONN)
	return err == nil && v != 0
}

// detached starts the daemon in a new session, without a controlling
// terminal, so closing the terminal does not send it SIGHUP.
func detached() (*syscall.SysProcAttr, error) {
	return &syscall.SysProcAttr{Setsid: true}, nil
}

func closeOnExec(fd int) { syscall.CloseOnExec(fd) }

// execve replaces the process image; it returns only on failure.
func execve(path string, args, env []string) error { return syscall.Exec(path, args, env) }

// groupName names the group owning fi for a warning, or its number.
func groupName(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "?"
	}
	gid := strconv.FormatUint(uint64(st.Gid), 10)
	if g, err := user.LookupGroupId(gid); err == nil {
		return g.Name
	}
	return gid
}

// processAlive reports whether a process with this pid exists; EPERM means
// it does, under another user.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
