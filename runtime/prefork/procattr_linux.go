package prefork

import "syscall"

// procAttr puts a worker in its own process group, so that a terminal's
// Ctrl-C reaches only the master (which drains the workers), and has the
// kernel send it SIGTERM if the master dies without draining it.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
