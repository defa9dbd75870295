package fastcgi

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/testsupport/logbuf"
)

// rec builds one record with pad bytes of padding.
func rec(typ uint8, id uint16, content []byte, pad int) []byte {
	b := []byte{1, typ, byte(id >> 8), byte(id), byte(len(content) >> 8), byte(len(content)), byte(pad), 0}
	b = append(b, content...)
	return append(b, make([]byte, pad)...)
}

func begin(id uint16, role uint16, flags uint8) []byte {
	return rec(typeBeginRequest, id, []byte{byte(role >> 8), byte(role), flags, 0, 0, 0, 0, 0}, 0)
}

// pairs encodes "NAME=value" strings as a name-value stream.
func pairs(kv ...string) []byte {
	var b []byte
	for _, s := range kv {
		n, v, _ := strings.Cut(s, "=")
		b = appendPair(b, n, v)
	}
	return b
}

func paramsRec(id uint16, kv ...string) []byte { return rec(typeParams, id, pairs(kv...), 0) }
func endParams(id uint16) []byte               { return rec(typeParams, id, nil, 0) }
func stdinRec(id uint16, s string) []byte      { return rec(typeStdin, id, []byte(s), 0) }
func endStdin(id uint16) []byte                { return rec(typeStdin, id, nil, 0) }

// manyVars returns n variables that mean nothing to the server.
func manyVars(n int) []string {
	kv := make([]string, n)
	for i := range kv {
		kv[i] = fmt.Sprintf("X_VAR_%d=%d", i, i)
	}
	return kv
}

// get is a whole GET request with KEEP_CONN.
func get(id uint16, uri string, extra ...string) []byte {
	return join(begin(id, roleResponder, flagKeepConn),
		paramsRec(id, append([]string{"REQUEST_METHOD=GET", "REQUEST_URI=" + uri}, extra...)...),
		endParams(id), endStdin(id))
}

// post is a whole POST request with KEEP_CONN, its body in one record.
func post(id uint16, uri, body string) []byte {
	return join(begin(id, roleResponder, flagKeepConn),
		paramsRec(id, "REQUEST_METHOD=POST", "REQUEST_URI="+uri, fmt.Sprintf("CONTENT_LENGTH=%d", len(body))),
		endParams(id), stdinRec(id, body), endStdin(id))
}

func join(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// record is one record as the client read it.
type record struct {
	typ     uint8
	id      uint16
	content []byte
}

// response is what a request got back.
type response struct {
	stdout         string
	appStatus      uint32
	protocolStatus uint8
	stdoutRecords  int
	sawEmptyStdout bool
}

// status returns the CGI status code in the response, 0 if none.
func (r response) status() int {
	var code int
	if i := strings.Index(r.stdout, "Status: "); i >= 0 {
		fmt.Sscanf(r.stdout[i+len("Status: "):], "%d", &code)
	}
	return code
}

// body returns the response body.
func (r response) body() string {
	_, b, _ := strings.Cut(r.stdout, "\r\n\r\n")
	return b
}

// client is the web server's end of a connection.
type client struct {
	t       *testing.T
	conn    net.Conn
	pending map[uint16]*response // responses being read, by request id
	done    map[uint16]response  // responses read whole
	other   []record             // management records
	wmu     sync.Mutex
	out     chan []byte // records for the writer goroutine
}

// send writes b without waiting, in order with earlier sends, so that the
// test never deadlocks with a server that answers before it has read
// everything.
func (c *client) send(bs ...[]byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.out == nil {
		c.out = make(chan []byte, 1024)
		go func() {
			for b := range c.out {
				if _, err := c.conn.Write(b); err != nil {
					return
				}
			}
		}()
	}
	c.out <- join(bs...)
}

func (c *client) readRecord() (record, error) {
	c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	var h [8]byte
	if _, err := io.ReadFull(c.conn, h[:]); err != nil {
		return record{}, err
	}
	if h[0] != 1 {
		c.t.Fatalf("record version %d from server", h[0])
	}
	n := binary.BigEndian.Uint16(h[4:6])
	b := make([]byte, int(n)+int(h[6]))
	if _, err := io.ReadFull(c.conn, b); err != nil {
		return record{}, err
	}
	if (int(n)+int(h[6]))%8 != 0 {
		c.t.Errorf("record of %d bytes with %d padding is not aligned to 8", n, h[6])
	}
	return record{h[1], binary.BigEndian.Uint16(h[2:4]), b[:n]}, nil
}

// step reads one record and files it; it fails on a second END_REQUEST.
func (c *client) step() error {
	r, err := c.readRecord()
	if err != nil {
		return err
	}
	switch r.typ {
	case typeStdout, typeEndRequest:
		if _, ok := c.done[r.id]; ok {
			c.t.Errorf("record type %d for request %d after its END_REQUEST", r.typ, r.id)
		}
		p := c.pending[r.id]
		if p == nil {
			p = &response{}
			c.pending[r.id] = p
		}
		if r.typ == typeStdout {
			if p.sawEmptyStdout {
				c.t.Errorf("STDOUT for request %d after its empty STDOUT", r.id)
			}
			if len(r.content) == 0 {
				p.sawEmptyStdout = true
			}
			p.stdout += string(r.content)
			p.stdoutRecords++
			return nil
		}
		if len(r.content) != 8 {
			c.t.Fatalf("END_REQUEST of %d bytes", len(r.content))
		}
		p.appStatus = binary.BigEndian.Uint32(r.content)
		p.protocolStatus = r.content[4]
		c.done[r.id] = *p
		delete(c.pending, r.id)
	default:
		c.other = append(c.other, r)
	}
	return nil
}

// response reads until request id has ended and returns what it got.
func (c *client) response(id uint16) response {
	c.t.Helper()
	for {
		if r, ok := c.done[id]; ok {
			return r
		}
		if err := c.step(); err != nil {
			c.t.Fatalf("reading the response to request %d: %v", id, err)
		}
	}
}

// management reads until a management record arrives.
func (c *client) management() record {
	c.t.Helper()
	for len(c.other) == 0 {
		if err := c.step(); err != nil {
			c.t.Fatalf("reading a management record: %v", err)
		}
	}
	r := c.other[0]
	c.other = c.other[1:]
	return r
}

// expectClosed reads until the server closes the connection.
func (c *client) expectClosed() {
	c.t.Helper()
	for {
		if err := c.step(); err != nil {
			if err != io.EOF && !strings.Contains(err.Error(), "closed") {
				c.t.Fatalf("waiting for the server to close: %v", err)
			}
			return
		}
	}
}

// oneListener hands out connections given to it, and blocks otherwise.
type oneListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *oneListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}
func (l *oneListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *oneListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// harness runs a Server on pipes.
type harness struct {
	t      *testing.T
	srv    *Server
	l      *oneListener
	logs   *logbuf.Buffer
	served chan error
}

func newHarness(t *testing.T, srv *Server) *harness {
	t.Helper()
	h := &harness{t: t, srv: srv, l: &oneListener{conns: make(chan net.Conn), closed: make(chan struct{})},
		logs: &logbuf.Buffer{}, served: make(chan error, 1)}
	if srv.ErrorLog == nil {
		srv.ErrorLog = log.New(h.logs, "", 0)
	}
	go func() { h.served <- srv.Serve(h.l) }()
	t.Cleanup(func() {
		srv.Close()
		<-h.served
	})
	return h
}

// dial opens one connection to the server.
func (h *harness) dial() *client {
	h.t.Helper()
	a, b := net.Pipe()
	select {
	case h.l.conns <- b:
	case <-time.After(20 * time.Second):
		h.t.Fatal("server did not accept")
	}
	h.t.Cleanup(func() { a.Close() })
	return &client{t: h.t, conn: a, pending: map[uint16]*response{}, done: map[uint16]response{}}
}

// echo answers with the method, path, script name and body it got.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "body: "+err.Error(), 499)
		return
	}
	fmt.Fprintf(w, "%s %s body=%s", r.Method, r.URL.Path, b)
})
