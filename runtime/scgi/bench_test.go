package scgi

import (
	"bufio"
	"bytes"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"testing"
)

// benchHandler is the handler both servers run: a small page, as most
// responses are.
var benchHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "Hello, world!\n")
})

// BenchmarkServe measures requests over loopback TCP with a minimal client
// for each protocol, so the figures are the servers'. SCGI opens a
// connection per request, so the fair peer is net/http with
// "Connection: close"; net/http keeping the connection alive is given too.
// Compare the req/s and allocs/op of the sub-benchmarks of one run.
func BenchmarkServe(b *testing.B) {
	b.Run("scgi", func(b *testing.B) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &Server{Handler: benchHandler, ErrorLog: log.New(io.Discard, "", 0)}
		go srv.Serve(l)
		defer srv.Close()
		// What nginx's scgi_params sends, with a few browser headers.
		req := []byte(request("GET", "/hello", "", "HTTP_USER_AGENT", "wrk", "HTTP_ACCEPT", "*/*",
			"SCRIPT_NAME", "", "DOCUMENT_ROOT", "/srv", "SERVER_SOFTWARE", "nginx", "GATEWAY_INTERFACE", "CGI/1.1"))
		buf := make([]byte, 4096)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			c, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.Write(req); err != nil {
				b.Fatal(err)
			}
			for {
				if _, err := c.Read(buf); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
			c.Close()
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	})
	b.Run("net-http-close", func(b *testing.B) {
		benchNetHTTP(b, true)
	})
	b.Run("net-http-keepalive", func(b *testing.B) {
		benchNetHTTP(b, false)
	})
}

// benchNetHTTP runs the handler under net/http on loopback TCP, with a
// connection per request when perRequest is set, reading each response
// with a minimal parser.
func benchNetHTTP(b *testing.B, perRequest bool) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: benchHandler, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(l)
	defer srv.Close()
	req := "GET /hello HTTP/1.1\r\nHost: example.org\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n"
	if perRequest {
		req = "GET /hello HTTP/1.1\r\nHost: example.org\r\nUser-Agent: wrk\r\nAccept: */*\r\nConnection: close\r\n\r\n"
	}
	var c net.Conn
	var r *bufio.Reader
	body := make([]byte, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if c == nil {
			if c, err = net.Dial("tcp", l.Addr().String()); err != nil {
				b.Fatal(err)
			}
			r = bufio.NewReaderSize(c, 4096)
		}
		if _, err := io.WriteString(c, req); err != nil {
			b.Fatal(err)
		}
		n := -1
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				b.Fatal(err)
			}
			if len(line) <= 2 {
				break
			}
			if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
				n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
			}
		}
		if _, err := io.ReadFull(r, body[:n]); err != nil {
			b.Fatal(err)
		}
		if perRequest {
			io.Copy(io.Discard, r)
			c.Close()
			c = nil
		}
	}
	if c != nil {
		c.Close()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
