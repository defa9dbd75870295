//go:build unix && !linux

package prefork

import "syscall"

// procAttr puts a worker in its own process group, so that a terminal's
// Ctrl-C reaches only the master, which drains the workers. Without Linux's
// parent-death signal a worker notices its master's death by its control
// pipe closing.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
