//go:build !linux

package prefork

import "net"

// ListenQueue reports false: only Linux tells a process its accept queue.
func ListenQueue(l net.Listener) (queued, capacity int, ok bool) {
	return 0, 0, false
}

// listenQueueFD reports false, as ListenQueue does.
func listenQueueFD(fd int) (queued, capacity int, ok bool) { return 0, 0, false }
