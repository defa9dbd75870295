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
	return rc.Read(peekByte)
}

// peekByte reports whether fd has a byte to read, or an end or error to
// report, without taking it; false makes RawConn.Read wait until the socket
// becomes readable (under the read deadline) and call it again. It captures
// nothing, so passing it allocates nothing.
func peekByte(fd uintptr) bool {
	var b [1]byte
	_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR)
}
