package prefork

import (
	"net"
	"syscall"
	"unsafe"
)

// ListenQueue reports how many connections wait in l's accept queue and how
// many it may hold (php-fpm's "listen queue" and "listen queue len"), read
// from Linux's TCP_INFO of the listening socket (tcpi_unacked and
// tcpi_sacked mean exactly that for a socket in LISTEN). ok is false for
// listeners that are not TCP.
func ListenQueue(l net.Listener) (queued, capacity int, ok bool) {
	tl, isTCP := l.(*net.TCPListener)
	if !isTCP {
		return 0, 0, false
	}
	rc, err := tl.SyscallConn()
	if err != nil {
		return 0, 0, false
	}
	err = rc.Control(func(fd uintptr) { queued, capacity, ok = listenQueueFD(int(fd)) })
	return queued, capacity, err == nil && ok
}

// listenQueueFD is ListenQueue for a socket's descriptor; ok is false for a
// socket that is not TCP (no TCP_INFO) or a closed one.
func listenQueueFD(fd int) (queued, capacity int, ok bool) {
	// struct tcp_info: 8 bytes of u8 fields, then u32 rto, ato, snd_mss,
	// rcv_mss, unacked, sacked, ...
	var info [104]byte
	n := uint32(len(info))
	_, _, errno := syscall.Syscall6(syscall.SYS_GETSOCKOPT, uintptr(fd), syscall.IPPROTO_TCP, syscall.TCP_INFO,
		uintptr(unsafe.Pointer(&info[0])), uintptr(unsafe.Pointer(&n)), 0)
	if errno != 0 {
		return 0, 0, false
	}
	u32 := func(off int) int { return int(*(*uint32)(unsafe.Pointer(&info[off]))) }
	return u32(24), u32(28), true
}
