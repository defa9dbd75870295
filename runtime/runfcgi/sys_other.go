//go:build !unix

package runfcgi

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

var stopSignals = []os.Signal{os.Interrupt}

// hangup is never delivered on these systems.
var hangup os.Signal = syscall.SIGHUP

// setUmask has nothing to set where there are no umasks.
func setUmask(int) {}

func withUmask(_ int, f func()) { f() }

// groupName is unknown where files have no owning group.
func groupName(fs.FileInfo) string { return "?" }

// isListeningSocket is false: web servers spawn FastCGI applications with a
// listening socket on stdin only on unix.
func isListeningSocket(int) bool { return false }

func detached() (*syscall.SysProcAttr, error) {
	return nil, errors.New("runfcgi: daemonize=true needs a unix system; use daemonize=false and a service manager")
}

// closeOnExec has nothing to do: these systems never start a daemon.
func closeOnExec(int) {}

// execve is never reached: only unix web servers spawn with a socket on fd 0.
func execve(string, []string, []string) error {
	return errors.New("runfcgi: restarting in place needs a unix system")
}

// processAlive cannot tell here: a pidfile is then always replaced.
func processAlive(int) bool { return false }
