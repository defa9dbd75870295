package ajp_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/appgen/appgen/runtime/ajp"
	"github.com/appgen/appgen/runtime/gateway"
)

func ExampleServer() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	prefix := "/app"
	srv := &ajp.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %s under %q from %s", r.Method, r.URL.Path, gateway.ScriptName(r), r.RemoteAddr)
		}),
		// Required for any address but loopback; Apache sends it with
		// ProxyPass /app/ ajp://127.0.0.1:8009/app/ secret=s3cret
		Secret:          "s3cret",
		ForceScriptName: &prefix,
	}
	go srv.Serve(l)
	defer srv.Close()

	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	// A FORWARD_REQUEST as mod_proxy_ajp sends it for GET /app/hello.
	c.Write(forwardRequest("/app/hello", "s3cret"))
	r := bufio.NewReader(c)
	for {
		p := readPacket(r)
		switch p[0] {
		case 4: // SEND_HEADERS
			fmt.Println("status", binary.BigEndian.Uint16(p[1:]))
		case 3: // SEND_BODY_CHUNK
			fmt.Printf("body %q\n", p[3:3+binary.BigEndian.Uint16(p[1:])])
		case 5: // END_RESPONSE
			fmt.Println("reuse", p[1] == 1)
			return
		}
	}
	// Output:
	// status 200
	// body "GET /hello under \"/app\" from 127.0.0.1:51234"
	// reuse true
}

// forwardRequest encodes a GET with a secret and the remote port.
func forwardRequest(uri, secret string) []byte {
	str := func(b []byte, s string) []byte {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		return append(append(b, s...), 0)
	}
	p := []byte{2, 2} // FORWARD_REQUEST, GET
	p = str(p, "HTTP/1.1")
	p = str(p, uri)
	p = str(p, "127.0.0.1")
	p = append(p, 0xFF, 0xFF) // remote_host: null
	p = str(p, "localhost")
	p = append(p, 0, 80, 0, 0, 1) // port 80, not SSL, one header
	p = str(append(p, 0xA0, 0x0B), "localhost")
	p = str(str(append(p, 0x0A), "AJP_REMOTE_PORT"), "51234")
	p = str(append(p, 0x0C), secret)
	p = append(p, 0xFF)
	return append([]byte{0x12, 0x34, byte(len(p) >> 8), byte(len(p))}, p...)
}

func readPacket(r io.Reader) []byte {
	h := make([]byte, 4)
	if _, err := io.ReadFull(r, h); err != nil {
		panic(err)
	}
	p := make([]byte, binary.BigEndian.Uint16(h[2:]))
	if _, err := io.ReadFull(r, p); err != nil {
		panic(err)
	}
	return p
}
