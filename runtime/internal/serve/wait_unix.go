//go:build unix

package serve

import (
	"errors"
	"syscall"
)

// WaitInput blocks until c has bytes to read, or the peer closed it, or
// its read deadline passed or it was closed (returned as errors), without
// reading anything. Protocols call it before they take their read buffers,
// so that a connection that sends nothing costs its goroutine and little
// else. On a connection that is not a socket of this process (net.Pipe in
// tests) it returns at once and the following read waits.
func (c *Conn) WaitInput() error {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	var b [1]byte
	// f peeks without blocking; returning false makes the runtime wait for
	// the socket to become readable (under the read deadline) and call it
	// again.
	err = rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR)
	})
	return err
}
