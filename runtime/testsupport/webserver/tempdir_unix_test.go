//go:build unix

package webserver_test

import (
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// TestTempDirReachable checks that a process with another user reaches TempDir's
// directory, whichever of the directory's classes judges it: others, and the group of the
// directory's owner. A worker or app that a root master runs in group 0 is judged by the
// group bits alone; with the parents opened to others only (0705), an app a test started in
// group 0 (read off an nginx worker that had not yet dropped root) got "permission denied".
func TestTempDirReachable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching users needs root")
	}
	dir := webserver.TempDir(t)
	for _, gid := range []uint32{0, 65534} {
		cmd := exec.Command("/bin/ls", dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: gid}}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("ls %s as uid 65532 gid %d: %v\n%s", dir, gid, err, out)
		}
	}
}
