package prefork

import (
	"errors"
	"net"
	"testing"
	"time"
)

// chanListener hands out the connections sent on conns.
type chanListener struct {
	conns  chan net.Conn
	closed chan struct{}
}

func newChanListener() *chanListener {
	return &chanListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	select {
	case <-l.closed:
	default:
		close(l.closed)
	}
	return nil
}

func (l *chanListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// TestDrainListenerSettling pins what a stopping worker waits for: an Accept
// in progress, then a connection until its second read starts.
func TestDrainListenerSettling(t *testing.T) {
	inner := newChanListener()
	l := newDrainListener(inner)

	accepted := make(chan net.Conn)
	go func() {
		c, err := l.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	waitFor(t, "Accept to start", func() bool { return l.unsettled() == 1 })

	server, client := net.Pipe()
	defer client.Close()
	inner.conns <- server
	c := <-accepted
	if n := l.unsettled(); n != 1 {
		t.Fatalf("a young connection with nothing read: %d unsettled, want 1", n)
	}

	go client.Write([]byte("request"))
	buf := make([]byte, 16)
	if _, err := c.Read(buf); err != nil {
		t.Fatal(err)
	}
	// Age the connection past quietConn: only its unprocessed read holds it.
	c.(*settlingConn).accepted = time.Now().Add(-time.Hour)
	if n := l.unsettled(); n != 1 {
		t.Fatalf("after the first read returned: %d unsettled, want 1", n)
	}

	go client.Write([]byte("more"))
	if _, err := c.Read(buf); err != nil {
		t.Fatal(err)
	}
	if n := l.unsettled(); n != 0 {
		t.Fatalf("after the second read started: %d unsettled, want 0", n)
	}

	l.stopAndSettle()
	// The server's next Accept must block until Shutdown closes the
	// listener, then report it closed.
	next := make(chan error)
	go func() {
		_, err := l.Accept()
		next <- err
	}()
	select {
	case err := <-next:
		t.Fatalf("Accept after stop returned %v before Close", err)
	case <-time.After(10 * time.Millisecond):
	}
	l.Close()
	if err := <-next; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close = %v, want net.ErrClosed", err)
	}
}

func TestDrainListenerQuietConnection(t *testing.T) {
	inner := newChanListener()
	l := newDrainListener(inner)
	server, client := net.Pipe()
	defer client.Close()
	go func() { inner.conns <- server }()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.(*settlingConn).accepted = time.Now().Add(-quietConn)
	if n := l.unsettled(); n != 0 {
		t.Errorf("a connection quiet for %v: %d unsettled, want 0", quietConn, n)
	}
	c.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) != 0 {
		t.Errorf("a closed connection is still tracked")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
