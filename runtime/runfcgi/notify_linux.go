package runfcgi

import (
	"syscall"
	"unsafe"
)

// clockMonotonic is Linux's CLOCK_MONOTONIC, the clock of systemd's
// MONOTONIC_USEC.
const clockMonotonic = 1

// monotonicUsec reads CLOCK_MONOTONIC in microseconds. Go's time package
// keeps its monotonic reading to itself, and the syscall package has no
// clock_gettime.
func monotonicUsec() (int64, bool) {
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0, false
	}
	return ts.Nano() / 1000, true
}
