package fastcgi_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"

	"github.com/appgen/appgen/runtime/fastcgi"
	"github.com/appgen/appgen/runtime/gateway"
)

func ExampleServer() {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		// Links carry the public prefix the web server mounted us under.
		fmt.Fprintf(w, "hello from %s/hello", gateway.ScriptName(r))
	})

	// nginx: fastcgi_pass 127.0.0.1:3033; Apache: ProxyPass /app/ fcgi://127.0.0.1:3033/
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &fastcgi.Server{Handler: mux, MaxBodyBytes: 10 << 20}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())

	// What a web server would send for GET /app/hello.
	fmt.Print(fcgiGet(l.Addr().String(), "SCRIPT_NAME", "/app", "PATH_INFO", "/hello",
		"REQUEST_METHOD", "GET", "REQUEST_URI", "/app/hello"))
	// Output:
	// Status: 200 OK
	// Content-Type: text/plain; charset=utf-8
	// Content-Length: 21
	//
	// hello from /app/hello
}

// fcgiGet is a minimal FastCGI client: one request, the response's STDOUT.
func fcgiGet(addr string, params ...string) string {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	record := func(typ byte, content []byte) []byte {
		h := []byte{1, typ, 0, 1, byte(len(content) >> 8), byte(len(content)), 0, 0}
		return append(h, content...)
	}
	var kv []byte
	for i := 0; i < len(params); i += 2 {
		kv = append(kv, byte(len(params[i])), byte(len(params[i+1])))
		kv = append(kv, params[i]+params[i+1]...)
	}
	var req []byte
	req = append(req, record(1, []byte{0, 1, 0, 0, 0, 0, 0, 0})...) // BEGIN_REQUEST, responder
	req = append(req, record(4, kv)...)                             // PARAMS
	req = append(req, record(4, nil)...)                            // end of PARAMS
	req = append(req, record(5, nil)...)                            // end of STDIN
	if _, err := c.Write(req); err != nil {
		log.Fatal(err)
	}
	var out strings.Builder
	br := bufio.NewReader(c)
	for {
		var h [8]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			log.Fatal(err)
		}
		content := make([]byte, int(binary.BigEndian.Uint16(h[4:6]))+int(h[6]))
		if _, err := io.ReadFull(br, content); err != nil {
			log.Fatal(err)
		}
		switch h[1] {
		case 6: // STDOUT
			out.Write(content[:binary.BigEndian.Uint16(h[4:6])])
		case 3: // END_REQUEST
			return strings.ReplaceAll(out.String(), "\r\n", "\n")
		}
	}
}
