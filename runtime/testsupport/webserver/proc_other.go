//go:build !unix

package webserver

import (
	"os"
	"os/exec"
)

// The web servers this package drives run on Unix only; elsewhere it still builds, so
// that appgen config (which uses Check) builds for every release target, and a server
// it starts is stopped on its own, without process groups.

func ownProcessGroup(*exec.Cmd) {}

func terminate(p *os.Process) { _ = p.Kill() }

func killGroup(*os.Process) {}
