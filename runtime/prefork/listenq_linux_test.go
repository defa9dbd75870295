package prefork

import (
	"net"
	"testing"
	"time"
)

// Connections nobody accepts wait in the queue, and ListenQueue counts them.
func TestListenQueue(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if q, c, ok := ListenQueue(l); !ok || q != 0 || c <= 0 {
		t.Fatalf("ListenQueue of an idle listener = %d, %d, %v; want 0 queued of a positive capacity", q, c, ok)
	}
	for range 3 {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		q, _, _ := ListenQueue(l)
		if q == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ListenQueue = %d queued, want the 3 unaccepted connections", q)
		}
		time.Sleep(10 * time.Millisecond)
	}
	u, err := net.Listen("unix", t.TempDir()+"/s")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if _, _, ok := ListenQueue(u); ok {
		t.Error("ListenQueue of a unix listener reported ok")
	}
	// The master asks by descriptor, without the listener's type.
	rc, err := u.(*net.UnixListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	rc.Control(func(fd uintptr) {
		if _, _, ok := listenQueueFD(int(fd)); ok {
			t.Error("listenQueueFD of a unix socket reported ok")
		}
	})
	if _, _, ok := listenQueueFD(-1); ok {
		t.Error("listenQueueFD of a closed descriptor reported ok")
	}
}
