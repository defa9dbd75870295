//go:build unix

package listenfd

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestDupOutlivesListener checks that the descriptor Dup returns keeps the
// socket listening after the listener is closed, is close-on-exec, and that a
// File made from it reaches a child, which accepts on it.
func TestDupOutlivesListener(t *testing.T) {
	if os.Getenv("LISTENFD_CHILD") == "1" {
		l, err := net.FileListener(os.NewFile(3, "inherited"))
		if err != nil {
			os.Exit(3)
		}
		c, err := l.Accept()
		if err != nil {
			os.Exit(4)
		}
		c.Write([]byte("from the child\n"))
		c.Close()
		os.Exit(0)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	fd, err := Dup(l)
	if err != nil {
		t.Fatal(err)
	}
	defer Close(fd)
	l.Close()
	if flags, err := fcntl(fd, syscall.F_GETFD); err != nil || flags&syscall.FD_CLOEXEC == 0 {
		t.Errorf("descriptor flags %#x, %v: want close-on-exec", flags, err)
	}

	f, err := File(fd, "test-listener")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDupOutlivesListener$")
	cmd.Env = append(os.Environ(), "LISTENFD_CHILD=1")
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dialing the socket after its listener closed: %v", err)
	}
	buf := make([]byte, 64)
	n, _ := c.Read(buf)
	c.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if got := string(buf[:n]); !strings.Contains(got, "from the child") {
		t.Errorf("read %q, want the child's answer", got)
	}
}

func TestDupRefusesAListenerWithoutDescriptor(t *testing.T) {
	if _, err := Dup(fakeListener{}); err == nil || !strings.Contains(err.Error(), "listenfd.fakeListener") {
		t.Errorf("Dup(fakeListener) = %v, want an error naming the type", err)
	}
}

type fakeListener struct{ net.Listener }

func fcntl(fd, cmd int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), uintptr(cmd), 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}
