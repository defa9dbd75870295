package pipenet

import (
	"errors"
	"io"
	"net"
	"testing"
)

func TestDialAccept(t *testing.T) {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8009}
	l := Listen(addr)
	if l.Addr() != addr {
		t.Errorf("Addr = %v, want %v", l.Addr(), addr)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	client, err := l.Dial()
	if err != nil {
		t.Fatal(err)
	}
	server := <-accepted
	if got := server.RemoteAddr().String(); got != "192.0.2.1:4242" {
		t.Errorf("server's RemoteAddr = %s, want 192.0.2.1:4242", got)
	}
	go client.Write([]byte("ping"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(server, buf); err != nil || string(buf) != "ping" {
		t.Errorf("server read %q, %v; want ping", buf, err)
	}
}

func TestClose(t *testing.T) {
	l := Listen(nil)
	l.Close()
	l.Close()
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close = %v, want net.ErrClosed", err)
	}
	if _, err := l.Dial(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Dial after Close = %v, want net.ErrClosed", err)
	}
}
