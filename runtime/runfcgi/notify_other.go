//go:build !linux

package runfcgi

// monotonicUsec reports false: systemd, and its MONOTONIC_USEC, are Linux's.
func monotonicUsec() (int64, bool) { return 0, false }
