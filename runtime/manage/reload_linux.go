package manage

import "syscall"

// childAttr puts the server in its own process group (the reloader passes signals on itself)
// and has the kernel stop it if the reloader dies without doing so.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
