//go:build unix

package listenfd

import (
	"fmt"
	"net"
	"os"
	"syscall"
)

// Dup duplicates l's socket into a close-on-exec descriptor that no poller
// watches. The caller closes it with Close; l may be closed at once.
func Dup(l net.Listener) (int, error) {
	sc, ok := l.(syscall.Conn)
	if !ok {
		return -1, fmt.Errorf("listener %T has no file descriptor to share, want a *net.TCPListener or *net.UnixListener", l)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("listener %v: %w", l.Addr(), err)
	}
	dup := -1
	var dupErr error
	if err := rc.Control(func(fd uintptr) { dup, dupErr = dupCloexec(int(fd)) }); err != nil {
		return -1, fmt.Errorf("listener %v: %w", l.Addr(), err)
	}
	if dupErr != nil {
		return -1, fmt.Errorf("duplicating listener %v: %w", l.Addr(), dupErr)
	}
	return dup, nil
}

// File returns a copy of fd as an *os.File named name, for one child's
// exec.Cmd.ExtraFiles. Close it once the child has started: while it is
// open, it is in the poller.
func File(fd int, name string) (*os.File, error) {
	dup, err := dupCloexec(fd)
	if err != nil {
		return nil, fmt.Errorf("duplicating %s: %w", name, err)
	}
	return os.NewFile(uintptr(dup), name), nil
}

// Close closes a descriptor Dup returned.
func Close(fd int) error { return syscall.Close(fd) }

// dupCloexec duplicates fd into a close-on-exec descriptor. ForkLock keeps a
// concurrent exec from inheriting the copy before it is marked.
func dupCloexec(fd int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	dup, err := syscall.Dup(fd)
	if err == nil {
		syscall.CloseOnExec(dup)
	}
	return dup, err
}
