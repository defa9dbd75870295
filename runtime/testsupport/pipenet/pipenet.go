// Package pipenet is a net.Listener of in-memory connections, for tests that
// drive a protocol server (runtime/ajp, runtime/scgi) as a web server would,
// without sockets: each Dial hands the server one end of a net.Pipe.
//
// It is test support for the runtime packages; it lives outside runtime/ so
// that generated projects, which bundle runtime/ without its tests, never
// see it.
package pipenet

import (
	"net"
	"sync"
)

// Peer is the address the server's end of every connection reports as its
// RemoteAddr, so that log lines name a peer as they would on TCP. It is in
// TEST-NET-1 (RFC 5737), so it can never be mistaken for a real peer.
var Peer net.Addr = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 4242}

// Listener hands out in-memory connections: each Dial returns the web
// server's end of a net.Pipe whose other end Accept returns.
type Listener struct {
	addr   net.Addr
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

// Listen returns a Listener whose Addr is addr; servers that check where
// they listen (AJP refuses a non-loopback address without a secret) see it.
func Listen(addr net.Addr) *Listener {
	return &Listener{addr: addr, conns: make(chan net.Conn), closed: make(chan struct{})}
}

// Accept waits for a Dial, or for Close, when it returns net.ErrClosed.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close makes Accept and Dial return net.ErrClosed. Calling it again does
// nothing.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// Addr returns the address given to Listen.
func (l *Listener) Addr() net.Addr { return l.addr }

// Dial connects to the server: it waits until Accept takes the server's end,
// and returns the client's, or net.ErrClosed once the Listener is closed.
func (l *Listener) Dial() (net.Conn, error) {
	server, client := net.Pipe()
	if err := l.Offer(serverEnd{server}); err != nil {
		client.Close()
		return nil, err
	}
	return client, nil
}

// Offer hands c to the server as an accepted connection, for a test that
// scripts the peer itself (a fuzzer feeding bytes and dropping replies). It
// waits until Accept takes c, or returns net.ErrClosed and closes c once the
// Listener is closed.
func (l *Listener) Offer(c net.Conn) error {
	select {
	case l.conns <- c:
		return nil
	case <-l.closed:
		c.Close()
		return net.ErrClosed
	}
}

// serverEnd reports Peer as the other end's address.
type serverEnd struct{ net.Conn }

func (serverEnd) RemoteAddr() net.Addr { return Peer }

var _ net.Listener = (*Listener)(nil)
