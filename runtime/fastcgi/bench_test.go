package fastcgi

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/fcgi"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// benchHandler is the handler both servers run: a small text page, after
// reading the body.
var benchHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > 0 {
		io.Copy(io.Discard, r.Body)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "Hello, world! This is a small page.\n")
})

// benchParams are what nginx's fastcgi_params send for a simple request.
func benchParams(method, contentLength string) []string {
	return []string{
		"QUERY_STRING=q=1", "REQUEST_METHOD=" + method, "CONTENT_TYPE=application/x-www-form-urlencoded",
		"CONTENT_LENGTH=" + contentLength, "SCRIPT_NAME=", "REQUEST_URI=/hello?q=1", "DOCUMENT_URI=/hello",
		"PATH_INFO=/hello", "DOCUMENT_ROOT=/srv/www", "SERVER_PROTOCOL=HTTP/1.1", "REQUEST_SCHEME=http",
		"GATEWAY_INTERFACE=CGI/1.1", "SERVER_SOFTWARE=nginx/1.22.1", "REMOTE_ADDR=127.0.0.1", "REMOTE_PORT=51234",
		"SERVER_ADDR=127.0.0.1", "SERVER_PORT=80", "SERVER_NAME=localhost", "REDIRECT_STATUS=200",
		"HTTP_HOST=localhost", "HTTP_USER_AGENT=wrk/4.1.0", "HTTP_ACCEPT=*/*", "HTTP_ACCEPT_ENCODING=gzip",
		"HTTP_CONNECTION=keep-alive",
	}
}

// benchServe measures sequential requests on one keep-conn connection
// (loopback TCP or a unix socket) to the server that serve starts.
func benchServe(b *testing.B, network string, serve func(net.Listener), req []byte) {
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(b.TempDir(), "bench.sock")
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go serve(l)
	conn, err := net.Dial(network, l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReaderSize(conn, 64<<10)
	var hdr [8]byte
	content := make([]byte, 65536+256)
	// The client reuses its buffers, so allocs/op counts the server's alone.
	out := make([]byte, 0, 4096)
	roundTrip := func() []byte {
		if _, err := conn.Write(req); err != nil {
			b.Fatal(err)
		}
		out = out[:0]
		for {
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				b.Fatal(err)
			}
			n := int(binary.BigEndian.Uint16(hdr[4:6])) + int(hdr[6])
			if _, err := io.ReadFull(br, content[:n]); err != nil {
				b.Fatal(err)
			}
			switch hdr[1] {
			case typeStdout:
				if len(out) < 4096 {
					out = append(out, content[:binary.BigEndian.Uint16(hdr[4:6])]...)
				}
			case typeEndRequest:
				return out
			}
		}
	}
	// One checked request first, so a broken server cannot look fast.
	if got := roundTrip(); !bytes.Contains(got, []byte("\r\n\r\nHello, world!")) {
		b.Fatalf("response %q", got)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		roundTrip()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkServe compares this server with net/http/fcgi: the same
// handler, requests and kind of connection. Run with -benchmem.
func BenchmarkServe(b *testing.B) {
	postBody := strings.Repeat("a=1&b=22&c=333&", 4)
	requests := map[string][]byte{
		"GET": join(begin(1, roleResponder, flagKeepConn), paramsRec(1, benchParams("GET", "")...), endParams(1), endStdin(1)),
		"POST": join(begin(1, roleResponder, flagKeepConn), paramsRec(1, benchParams("POST", "60")...), endParams(1),
			stdinRec(1, postBody), endStdin(1)),
	}
	servers := []struct {
		name  string
		serve func(net.Listener)
	}{
		{"appgen", func(l net.Listener) { (&Server{Handler: benchHandler}).Serve(l) }},
		{"net-http-fcgi", func(l net.Listener) { fcgi.Serve(l, benchHandler) }},
	}
	for _, network := range []string{"tcp", "unix"} {
		for _, method := range []string{"GET", "POST"} {
			for _, s := range servers {
				b.Run(network+"/"+method+"/"+s.name, func(b *testing.B) { benchServe(b, network, s.serve, requests[method]) })
			}
		}
	}
}

// replayConn is a connection from a web server that sends the same request
// n times, each once the answer to the one before has ended (as nginx does),
// and discards what it is sent: the server's own work per request, without
// a system call in the way.
type replayConn struct {
	req     []byte
	left    int // requests still to send
	written int // bytes the server wrote

	mu    sync.Mutex
	ended sync.Cond // signalled at each FCGI_END_REQUEST
	owed  int       // requests sent and not yet ended

	done chan struct{}
	once sync.Once
}

func newReplayConn(req []byte, n int) *replayConn {
	c := &replayConn{req: req, left: n, done: make(chan struct{})}
	c.ended.L = &c.mu
	return c
}

func (c *replayConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.owed > 0 {
		c.ended.Wait()
	}
	if c.left == 0 {
		return 0, io.EOF
	}
	if len(p) < len(c.req) {
		return 0, fmt.Errorf("read buffer of %d bytes, the request has %d", len(p), len(c.req))
	}
	c.left--
	c.owed++
	return copy(p, c.req), nil
}

// Write counts p, which ends with FCGI_END_REQUEST (8 bytes of header, 8
// of content) when it is a response's last write.
func (c *replayConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.written += len(p)
	if len(p) >= 16 && p[len(p)-16+1] == typeEndRequest {
		c.owed--
		c.ended.Signal()
	}
	return len(p), nil
}

func (c *replayConn) Close() error                { c.once.Do(func() { close(c.done) }); return nil }
func (c *replayConn) LocalAddr() net.Addr         { return pipeAddr{} }
func (c *replayConn) RemoteAddr() net.Addr        { return pipeAddr{} }
func (c *replayConn) SetDeadline(time.Time) error { return nil }
func (c *replayConn) SetReadDeadline(time.Time) error {
	return nil
}
func (c *replayConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkRequestCPU is the server's own cost of one keep-conn request, as
// nginx sends it (all records in one read), with no system calls: what is
// left of a request's time once the network is taken out.
func BenchmarkRequestCPU(b *testing.B) {
	for _, method := range []string{"GET", "POST"} {
		b.Run(method, func(b *testing.B) {
			body := strings.Repeat("a=1&b=22&c=333&", 4)
			req := join(begin(1, roleResponder, flagKeepConn), paramsRec(1, benchParams(method, "")...), endParams(1), endStdin(1))
			if method == "POST" {
				req = join(begin(1, roleResponder, flagKeepConn), paramsRec(1, benchParams(method, "60")...), endParams(1),
					stdinRec(1, body), endStdin(1))
			}
			c := newReplayConn(req, b.N)
			l := &oneListener{conns: make(chan net.Conn, 1), closed: make(chan struct{})}
			l.conns <- c
			srv := &Server{Handler: benchHandler}
			b.ReportAllocs()
			b.ResetTimer()
			go srv.Serve(l)
			<-c.done
			b.StopTimer()
			srv.Close()
			if c.written < b.N*len("Hello, world! This is a small page.\n") {
				b.Fatalf("%d requests answered with %d bytes in all", b.N, c.written)
			}
		})
	}
}
