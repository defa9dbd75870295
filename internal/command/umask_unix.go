//go:build unix

package command

import "syscall"

// umask reads the process umask. syscall.Umask can only read it by setting it, so it is
// set back at once; appgen calls this before it starts writing anything.
func umask() uint32 {
	m := syscall.Umask(0o022)
	syscall.Umask(m)
	return uint32(m)
}
