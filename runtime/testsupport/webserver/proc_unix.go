//go:build unix

package webserver

import (
	"os"
	"os/exec"
	"syscall"
)

// ownProcessGroup starts cmd as the leader of a new process group.
func ownProcessGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// terminate asks p's process group to stop: the servers finish their requests on SIGTERM,
// and so do the applications they spawned. Signalling p alone left mod_fcgid's process
// manager, a child of Apache that holds its output pipe, running until it noticed, which
// held up Wait for the whole stop timeout.
func terminate(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGTERM) }

// killGroup kills what is left of the process group p leads.
func killGroup(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }
