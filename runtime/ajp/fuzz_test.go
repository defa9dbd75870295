package ajp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/internal/respond"
	"github.com/appgen/appgen/runtime/testsupport/logbuf"
	"github.com/appgen/appgen/runtime/testsupport/pipenet"
)

func FuzzDecodeForwardRequest(f *testing.F) {
	f.Add(get("/").payload())
	f.Add(post("/upload?x", 10).payload())
	full := get("/a%20b")
	full.ssl = true
	full.method = 0xFF
	full.headers = append(full.headers, hdr{name: "X-Forwarded-For", value: "203.0.113.1"}, hdr{code: 0xA009, value: "a=b"},
		hdr{name: "Transfer-Encoding", value: "chunked"})
	full.attrs = []attr{{code: attrStoredMeth, value: "PATCH"}, {code: attrQueryString, value: "q=1"},
		{code: attrReqAttr, name: "AJP_REMOTE_PORT", value: "1234"}, {code: attrSecret, value: "s"}, {code: attrSSLKeySize, num: 256}}
	f.Add(full.payload())
	smuggle := get("/")
	smuggle.attrs = []attr{{code: attrReqAttr, name: "javax.servlet.include.request_uri", value: "/WEB-INF/web.xml"}}
	f.Add(smuggle.payload())
	f.Add([]byte{typeForwardRequest})
	// TLS with a client certificate: the PEM parser gets what follows.
	cert := get("/")
	cert.ssl = true
	cert.attrs = []attr{{code: attrSSLCert, value: "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIBATAKBggqhkjOPQQDAjAA\n-----END CERTIFICATE-----\n"},
		{code: attrReqAttr, name: "AJP_SSL_PROTOCOL", value: "TLSv1.3"}}
	f.Add(cert.payload())
	f.Fuzz(func(t *testing.T, p []byte) {
		fr, err := decodeForwardRequest(p)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "ajp: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			return
		}
		// What the decoder accepts keeps the framing rules...
		cls := 0
		for _, h := range fr.header {
			if h.Name == "Content-Length" {
				cls++
			}
			if !validHeaderValue(h.Value) || !respond.IsToken(h.Name) {
				t.Fatalf("accepted header %q: %q", h.Name, h.Value)
			}
		}
		if cls > 1 || fr.chunked && fr.contentLength >= 0 {
			t.Fatalf("accepted ambiguous body framing: %d Content-Length, chunked %v", cls, fr.chunked)
		}
		// ...and becomes a request or a refusal, never a panic.
		r, err := fr.httpRequest(context.Background(), http.NoBody, "/app")
		var re *requestError
		if err != nil && !errors.As(err, &re) {
			t.Fatalf("httpRequest error %v is not a refusal", err)
		}
		if err == nil && (r.Method == "" || r.URL.Path == "" || r.URL.Path[0] != '/') {
			t.Fatalf("request %s %q", r.Method, r.URL.Path)
		}
		if err == nil && fr.isSSL && fr.attrs.SSLCert != "" && len(r.TLS.PeerCertificates) == 0 {
			t.Fatalf("ssl_cert %q accepted with no certificate in r.TLS", fr.attrs.SSLCert)
		}
	})
}

// FuzzConn feeds arbitrary bytes to a connection, as a hostile or broken
// peer would: the server must answer or close, and never panic or hang.
func FuzzConn(f *testing.F) {
	f.Add(append(get("/").packet(), cping()...))
	f.Add(append(post("/", 3).packet(), bodyPacket("abc")...))
	f.Add(append(post("/", 30).packet(), bodyPacket("abc")...))
	chunked := get("/")
	chunked.headers = append(chunked.headers, hdr{name: "Transfer-Encoding", value: "chunked"})
	f.Add(append(chunked.packet(), append(bodyPacket("abc"), bodyPacket("")...)...))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	logs := &logbuf.Buffer{}
	srv := &Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(w, r.Body)
		}),
		ErrorLog: log.New(logs, "", 0),
	}
	l := pipenet.Listen(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	go srv.Serve(l)
	defer srv.Close()
	f.Fuzz(func(t *testing.T, in []byte) {
		c := &scriptConn{r: bytes.NewReader(in), closed: make(chan struct{})}
		if err := l.Offer(c); err != nil {
			t.Fatal(err)
		}
		<-c.closed
		if out := logs.String(); strings.Contains(out, "panic") {
			t.Fatalf("server panicked: %s", out)
		}
	})
}

// scriptConn is a connection whose peer sends in and then closes; what the
// server writes is dropped.
type scriptConn struct {
	r      *bytes.Reader
	closed chan struct{}
	once   sync.Once
}

func (c *scriptConn) Read(p []byte) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	return c.r.Read(p)
}
func (c *scriptConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *scriptConn) Close() error                     { c.once.Do(func() { close(c.closed) }); return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return fakeAddr("127.0.0.1:8009") }
func (c *scriptConn) RemoteAddr() net.Addr             { return fakeAddr("127.0.0.1:4242") }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }
