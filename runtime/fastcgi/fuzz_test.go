package fastcgi

import (
	"bytes"
	"encoding/binary"
	"io"
	"log"
	"net"
	"sync"
	"testing"
	"time"
)

// FuzzParsePairs checks that the name-value parser never panics and that
// what it accepts encodes back to the same pairs.
func FuzzParsePairs(f *testing.F) {
	f.Add(pairs("REQUEST_METHOD=GET", "EMPTY="))
	f.Add(appendPair(nil, string(bytes.Repeat([]byte("n"), 200)), string(bytes.Repeat([]byte("v"), 70000))))
	f.Add([]byte{0x80, 0, 0, 1, 0, 'x'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{3, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := parsePairs(nil, string(data))
		if err != nil {
			return
		}
		var again []byte
		for _, p := range ps {
			again = appendPair(again, p.Name, p.Value)
		}
		ps2, err := parsePairs(nil, string(again))
		if err != nil || len(ps2) != len(ps) {
			t.Fatalf("re-encoded pairs do not parse back: %v, %d of %d", err, len(ps2), len(ps))
		}
		for i := range ps {
			if ps[i] != ps2[i] {
				t.Fatalf("pair %d: %q became %q", i, ps[i], ps2[i])
			}
		}
	})
}

// fuzzConn is a connection whose peer sends in and then closes; what the
// server writes is kept in out.
type fuzzConn struct {
	in     *bytes.Reader
	mu     sync.Mutex
	out    bytes.Buffer
	once   sync.Once
	closed chan struct{}
}

func (c *fuzzConn) Read(p []byte) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	return c.in.Read(p)
}

func (c *fuzzConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}

func (c *fuzzConn) Close() error                     { c.once.Do(func() { close(c.closed) }); return nil }
func (c *fuzzConn) LocalAddr() net.Addr              { return pipeAddr{} }
func (c *fuzzConn) RemoteAddr() net.Addr             { return pipeAddr{} }
func (c *fuzzConn) SetDeadline(time.Time) error      { return nil }
func (c *fuzzConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fuzzConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzRecords feeds a connection arbitrary bytes. The server must neither
// panic nor hang, must write only well-formed records, and must end no
// more requests than were begun.
func FuzzRecords(f *testing.F) {
	f.Add(get(1, "/"))
	f.Add(post(1, "/p", "body"))
	f.Add(join(begin(1, roleResponder, 0), paramsRec(1, "REQUEST_METHOD=POST", "CONTENT_LENGTH=3"), endParams(1),
		stdinRec(1, "abcdef"), rec(typeAbortRequest, 1, nil, 0), endStdin(1)))
	f.Add(join(rec(typeGetValues, 0, pairs("FCGI_MAX_CONNS=", "X="), 0), rec(42, 0, nil, 0), begin(2, roleFilter, 1)))
	f.Add(join(get(1, "/a"), get(2, "/b"), begin(1, roleResponder, 1), rec(typeParams, 1, []byte{0x80, 0, 0}, 0), endParams(1)))
	f.Add([]byte{1, 1, 0, 1, 0, 8, 0})
	// Two requests' params interleaved, one aborted before its params end,
	// and more variables than startRequest parses on the stack.
	f.Add(join(begin(1, roleResponder, 1), begin(2, roleResponder, 1), paramsRec(1, "REQUEST_METHOD=GET"),
		paramsRec(2, "REQUEST_METHOD=GET"), rec(typeAbortRequest, 1, nil, 0), endParams(2), paramsRec(1, "X=1"),
		endParams(1), endStdin(2), endStdin(1)))
	f.Add(join(begin(3, roleResponder, 0), paramsRec(3, append(manyVars(maxStackPairs+2), "REQUEST_METHOD=GET")...),
		endParams(3), endStdin(3)))

	l := &oneListener{conns: make(chan net.Conn), closed: make(chan struct{})}
	srv := &Server{Handler: echo, ErrorLog: log.New(io.Discard, "", 0), MaxBodyBytes: 1 << 20, TempDir: f.TempDir()}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	f.Cleanup(func() {
		srv.Close()
		<-served
	})

	f.Fuzz(func(t *testing.T, data []byte) {
		c := &fuzzConn{in: bytes.NewReader(data), closed: make(chan struct{})}
		l.conns <- c
		<-c.closed
		// Wait until the server has let go of the connection, so that
		// its output is complete.
		for srv.srv.Conns() != 0 {
			time.Sleep(time.Millisecond)
		}
		c.mu.Lock()
		out := c.out.Bytes()
		c.mu.Unlock()
		begun := 0
		for in := data; len(in) >= 8; {
			if in[1] == typeBeginRequest {
				begun++
			}
			n := 8 + int(binary.BigEndian.Uint16(in[4:6])) + int(in[6])
			in = in[min(n, len(in)):]
		}
		ended := 0
		for len(out) > 0 {
			if len(out) < 8 || out[0] != 1 {
				t.Fatalf("malformed output record %q", out)
			}
			n := 8 + int(binary.BigEndian.Uint16(out[4:6])) + int(out[6])
			if n > len(out) {
				t.Fatalf("output record of %d bytes with %d left", n, len(out))
			}
			if out[1] == typeEndRequest {
				ended++
			}
			out = out[n:]
		}
		if ended > begun {
			t.Fatalf("%d END_REQUEST records for %d BEGIN_REQUEST records", ended, begun)
		}
	})
}
