//go:build !unix

package listenfd

import (
	"errors"
	"net"
	"os"
)

// errNotSupported: handing a socket to a child process by descriptor is Unix's.
var errNotSupported = errors.New("passing a listening socket to another process is not supported on this system")

// Dup reports that this system cannot pass sockets on.
func Dup(l net.Listener) (int, error) { return -1, errNotSupported }

// File reports that this system cannot pass sockets on.
func File(fd int, name string) (*os.File, error) { return nil, errNotSupported }

// Close does nothing: Dup never returns a descriptor here.
func Close(fd int) error { return nil }
