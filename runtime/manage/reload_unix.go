//go:build unix && !linux

package manage

import "syscall"

// childAttr puts the server in its own process group: the reloader passes signals on itself.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
