package ajp

import (
	"bufio"
	"bytes"
	"encoding/binary"
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

// BenchmarkServe measures requests on one kept-alive loopback TCP
// connection, with a minimal client for each protocol so the figures are
// the servers'. The peer, with no AJP server in the standard library, is
// net/http serving the same handler: compare the req/s and allocs/op of
// the two sub-benchmarks of one run.
func BenchmarkServe(b *testing.B) {
	b.Run("ajp", func(b *testing.B) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &Server{Handler: benchHandler, ErrorLog: log.New(io.Discard, "", 0)}
		go srv.Serve(l)
		defer srv.Close()
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		f := get("/hello")
		f.headers = append(f.headers, hdr{code: 0xA00E, value: "wrk"}, hdr{code: 0xA001, value: "*/*"})
		f.attrs = []attr{{code: attrReqAttr, name: "AJP_REMOTE_PORT", value: "51234"}}
		req := f.packet()
		r := bufio.NewReaderSize(c, 16<<10)
		buf := make([]byte, 8192)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := c.Write(req); err != nil {
				b.Fatal(err)
			}
			for {
				if _, err := io.ReadFull(r, buf[:4]); err != nil {
					b.Fatal(err)
				}
				n := int(binary.BigEndian.Uint16(buf[2:4]))
				if _, err := io.ReadFull(r, buf[:n]); err != nil {
					b.Fatal(err)
				}
				if buf[0] == typeEndResponse {
					break
				}
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	})
	b.Run("net-http", func(b *testing.B) {
		benchNetHTTP(b, "GET /hello HTTP/1.1\r\nHost: example.org\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n")
	})
}

// benchNetHTTP runs the handler under net/http on loopback TCP and sends
// req on one connection per iteration, reading each response with a
// minimal parser.
func benchNetHTTP(b *testing.B, req string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: benchHandler, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(l)
	defer srv.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReaderSize(c, 16<<10)
	body := make([]byte, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
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
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
