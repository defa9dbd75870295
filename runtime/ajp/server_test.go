package ajp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/gateway"
	"github.com/appgen/appgen/runtime/testsupport/pipenet"
	"github.com/appgen/appgen/runtime/testsupport/testcert"
)

// mapping is the comparable part of what a handler saw.
type mapping struct {
	method, path, rawQuery, requestURI, host, remoteAddr, scheme, urlHost, scriptName string
	tls                                                                               bool
}

// seen is what a handler observed of its request.
type seen struct {
	mapping
	header        http.Header
	attrs         Attributes
	tlsState      *tls.ConnectionState
	contentLength int64
	body          string
	bodyErr       error
}

// recorder is a handler that records each request and answers "ok".
type recorder struct {
	mu   sync.Mutex
	reqs []seen
}

func (h *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	h.mu.Lock()
	h.reqs = append(h.reqs, seen{
		mapping: mapping{method: r.Method, path: r.URL.Path, rawQuery: r.URL.RawQuery, requestURI: r.RequestURI, host: r.Host,
			remoteAddr: r.RemoteAddr, scheme: r.URL.Scheme, urlHost: r.URL.Host, tls: r.TLS != nil, scriptName: gateway.ScriptName(r)},
		header: r.Header, attrs: RequestAttributes(r), tlsState: r.TLS, contentLength: r.ContentLength, body: string(b), bodyErr: err,
	})
	h.mu.Unlock()
	io.WriteString(w, "ok")
}

func (h *recorder) last(t *testing.T) seen {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.reqs) == 0 {
		t.Fatal("handler not called")
	}
	return h.reqs[len(h.reqs)-1]
}

func (h *recorder) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.reqs)
}

func TestRequestMapping(t *testing.T) {
	prefix := "/app"
	tests := []struct {
		name  string
		force *string
		req   fwd
		want  mapping
	}{
		{
			name: "plain",
			req:  get("/a%20b/c"),
			want: mapping{method: "GET", path: "/a b/c", requestURI: "/a%20b/c", host: "example.org", remoteAddr: "192.0.2.7:0", scheme: "http", urlHost: "example.org"},
		},
		{
			name: "query, port, TLS and no Host",
			req: func() fwd {
				f := get("/p")
				f.headers = nil
				f.ssl = true
				f.port = 8443
				f.attrs = []attr{{code: attrQueryString, value: "q=%E2%82%AC&x"}, {code: attrReqAttr, name: "AJP_REMOTE_PORT", value: "51234"}}
				return f
			}(),
			want: mapping{method: "GET", path: "/p", rawQuery: "q=%E2%82%AC&x", requestURI: "/p?q=%E2%82%AC&x", host: "example.org:8443",
				remoteAddr: "192.0.2.7:51234", scheme: "https", urlHost: "example.org:8443", tls: true},
		},
		{
			name: "IPv6 peer",
			req: func() fwd {
				f := get("/")
				f.remoteAddr = "2001:db8::1"
				f.attrs = []attr{{code: attrReqAttr, name: "AJP_REMOTE_PORT", value: "443"}}
				return f
			}(),
			want: mapping{method: "GET", path: "/", requestURI: "/", host: "example.org", remoteAddr: "[2001:db8::1]:443", scheme: "http", urlHost: "example.org"},
		},
		{
			name:  "ForceScriptName cut from req_uri",
			force: &prefix,
			req:   get("/app/x/y"),
			want:  mapping{method: "GET", path: "/x/y", requestURI: "/app/x/y", host: "example.org", remoteAddr: "192.0.2.7:0", scheme: "http", urlHost: "example.org", scriptName: "/app"},
		},
		{
			name:  "ForceScriptName with a backend path of /",
			force: &prefix,
			req:   get("/x"),
			want:  mapping{method: "GET", path: "/x", requestURI: "/x", host: "example.org", remoteAddr: "192.0.2.7:0", scheme: "http", urlHost: "example.org", scriptName: "/app"},
		},
		{
			name:  "ForceScriptName is the whole path",
			force: &prefix,
			req:   get("/app"),
			want:  mapping{method: "GET", path: "/", requestURI: "/app", host: "example.org", remoteAddr: "192.0.2.7:0", scheme: "http", urlHost: "example.org", scriptName: "/app"},
		},
		{
			name:  "ForceScriptName only at a segment boundary",
			force: &prefix,
			req:   get("/apple"),
			want:  mapping{method: "GET", path: "/apple", requestURI: "/apple", host: "example.org", remoteAddr: "192.0.2.7:0", scheme: "http", urlHost: "example.org", scriptName: "/app"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &recorder{}
			l, _ := start(t, &Server{Handler: h, ForceScriptName: tt.force})
			c := dial(t, l)
			r := c.roundTrip(nil, tt.req.packet())
			if r.status != 200 || r.body != "ok" || !r.reuse {
				t.Fatalf("response %+v", r)
			}
			if got := h.last(t).mapping; got != tt.want {
				t.Errorf("request\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestRequestHeadersAndAttributes(t *testing.T) {
	h := &recorder{}
	l, _ := start(t, &Server{Handler: h})
	f := get("/")
	f.headers = append(f.headers,
		hdr{code: 0xA00E, value: "curl/8"}, hdr{name: "Proxy", value: "http://evil"}, hdr{name: "x-custom", value: "1"},
		hdr{name: "X-Custom", value: "2"}, hdr{code: 0xA005, value: "Basic YTpi"})
	f.remoteHost = "client.example.org"
	f.attrs = []attr{{code: attrRemoteUser, value: "alice"}, {code: attrAuthType, value: "Basic"},
		{code: attrReqAttr, name: "AJP_LOCAL_ADDR", value: "127.0.0.1"}, {code: attrSSLKeySize, num: 256}}
	c := dial(t, l)
	if r := c.roundTrip(nil, f.packet()); r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	got := h.last(t)
	if v := got.header.Get("Proxy"); v != "" {
		t.Errorf("Proxy header %q reached the handler (httpoxy)", v)
	}
	if v := got.header["X-Custom"]; len(v) != 2 || v[0] != "1" || v[1] != "2" {
		t.Errorf("X-Custom %q, want [1 2]", v)
	}
	if got.header.Get("User-Agent") != "curl/8" || got.header.Get("Authorization") != "Basic YTpi" {
		t.Errorf("coded headers %v", got.header)
	}
	a := got.attrs
	if a.RemoteUser != "alice" || a.AuthType != "Basic" || a.LocalAddr != "127.0.0.1" || a.SSLKeySize != 256 ||
		a.RemoteHost != "client.example.org" {
		t.Errorf("attributes %+v", a)
	}
}

func TestSecret(t *testing.T) {
	tests := []struct {
		name       string
		configured string
		sent       *string
		want       int
	}{
		{"accepted", "s3cret", ptr("s3cret"), 200},
		{"missing", "s3cret", nil, 403},
		{"wrong", "s3cret", ptr("s3cre7"), 403},
		{"empty sent", "s3cret", ptr(""), 403},
		{"prefix of the secret", "s3cret", ptr("s3cre"), 403},
		{"none configured, one sent", "", ptr("anything"), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &recorder{}
			l, logs := start(t, &Server{Handler: h, Secret: tt.configured})
			f := post("/", 5)
			if tt.sent != nil {
				f.attrs = []attr{{code: attrSecret, value: *tt.sent}}
			}
			c := dial(t, l)
			r := c.roundTrip(nil, f.packet(), bodyPacket("hello"))
			if r.status != tt.want {
				t.Fatalf("status %d, want %d", r.status, tt.want)
			}
			if tt.want == 403 {
				if r.reuse || !c.closed() {
					t.Error("connection kept after a bad secret, want END_RESPONSE reuse=0 and close")
				}
				if h.count() != 0 {
					t.Error("handler called")
				}
				if lines := logs.Lines(); len(lines) != 1 || !strings.HasPrefix(lines[0], "ajp: 192.0.2.1:4242: ") || !strings.Contains(lines[0], "secret") {
					t.Errorf("log %q, want one line naming the peer and the secret", lines)
				}
				return
			}
			if !r.reuse || h.last(t).body != "hello" {
				t.Errorf("reuse %v, body %q", r.reuse, h.last(t).body)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestServeRefusesNonLoopbackWithoutSecret(t *testing.T) {
	tests := []struct {
		name    string
		addr    net.Addr
		secret  string
		refused bool
	}{
		{"IPv4 loopback", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8009}, "", false},
		{"IPv6 loopback", &net.TCPAddr{IP: net.IPv6loopback, Port: 8009}, "", false},
		{"unix socket", &net.UnixAddr{Name: "/run/app.sock", Net: "unix"}, "", false},
		{"all interfaces", &net.TCPAddr{IP: net.IPv4zero, Port: 8009}, "", true},
		{"IPv6 all interfaces", &net.TCPAddr{IP: net.IPv6unspecified, Port: 8009}, "", true},
		{"LAN address", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 8009}, "", true},
		{"LAN address with a secret", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 8009}, "s3cret", false},
		{"other net.Addr, loopback", fakeAddr("127.0.0.1:8009"), "", false},
		{"other net.Addr, not loopback", fakeAddr("10.0.0.1:8009"), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &Server{Handler: http.NotFoundHandler(), Secret: tt.secret, ErrorLog: log.New(io.Discard, "", 0)}
			l := pipenet.Listen(tt.addr)
			done := make(chan error, 1)
			go func() { done <- srv.Serve(l) }()
			if tt.refused {
				err := <-done
				if !errors.Is(err, ErrNoSecret) || !strings.Contains(err.Error(), tt.addr.String()) {
					t.Fatalf("Serve returned %v, want ErrNoSecret naming %s", err, tt.addr)
				}
				return
			}
			c := dial(t, l)
			f := get("/")
			if tt.secret != "" {
				f.attrs = []attr{{code: attrSecret, value: tt.secret}}
			}
			if r := c.roundTrip(nil, f.packet()); r.status != 404 {
				t.Errorf("status %d, want 404", r.status)
			}
			srv.Close()
			if err := <-done; err != http.ErrServerClosed {
				t.Errorf("Serve returned %v", err)
			}
		})
	}
}

func TestServeRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		srv  *Server
		want string
	}{
		{"no handler", &Server{}, "Handler is nil"},
		{"packet too small", &Server{Handler: http.NotFoundHandler(), PacketSize: 4096}, "PacketSize 4096"},
		{"packet too large", &Server{Handler: http.NotFoundHandler(), PacketSize: 65537}, "PacketSize 65537"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.srv.Serve(pipenet.Listen(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Serve returned %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestAttributeAllowList(t *testing.T) {
	tests := []struct {
		name    string
		attr    attr
		allowed bool
	}{
		{"AJP_REMOTE_PORT", attr{code: attrReqAttr, name: "AJP_REMOTE_PORT", value: "1234"}, true},
		{"AJP_LOCAL_ADDR", attr{code: attrReqAttr, name: "AJP_LOCAL_ADDR", value: "127.0.0.1"}, true},
		{"AJP_SSL_PROTOCOL", attr{code: attrReqAttr, name: "AJP_SSL_PROTOCOL", value: "TLSv1.3"}, true},
		{"JK_LB_ACTIVATION", attr{code: attrReqAttr, name: "JK_LB_ACTIVATION", value: "ACT"}, true},
		{"javax.servlet.include.request_uri", attr{code: attrReqAttr, name: "javax.servlet.include.request_uri", value: "/"}, false},
		{"javax.servlet.include.servlet_path", attr{code: attrReqAttr, name: "javax.servlet.include.servlet_path", value: "WEB-INF/web.xml"}, false},
		{"lower-case name", attr{code: attrReqAttr, name: "ajp_remote_port", value: "1"}, false},
		{"empty name", attr{code: attrReqAttr, name: "", value: "1"}, false},
		{"context", attr{code: attrContextPath, value: "/"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &recorder{}
			l, logs := start(t, &Server{Handler: h})
			f := get("/")
			f.attrs = []attr{tt.attr}
			c := dial(t, l)
			r := c.roundTrip(nil, f.packet())
			if !tt.allowed {
				if r.status != 403 || r.reuse || !c.closed() || h.count() != 0 {
					t.Fatalf("status %d reuse %v calls %d, want 403, reuse=0, closed, handler not called", r.status, r.reuse, h.count())
				}
				if lines := logs.Lines(); len(lines) != 1 || !strings.Contains(lines[0], "not allowed") {
					t.Errorf("log %q", lines)
				}
				return
			}
			if r.status != 200 || !r.reuse {
				t.Fatalf("status %d reuse %v", r.status, r.reuse)
			}
			got := h.last(t)
			a := got.attrs
			field := map[string]string{"AJP_REMOTE_PORT": strings.TrimPrefix(got.remoteAddr, "192.0.2.7:"),
				"AJP_LOCAL_ADDR": a.LocalAddr, "AJP_SSL_PROTOCOL": a.SSLProtocol, "JK_LB_ACTIVATION": a.LBActivation}
			if field[tt.attr.name] != tt.attr.value {
				t.Errorf("attribute %s = %q, want %q", tt.attr.name, field[tt.attr.name], tt.attr.value)
			}
		})
	}
}

// TestClientCertificate: the TLS state the web server describes (is_ssl,
// ssl_cert, AJP_SSL_PROTOCOL) becomes r.TLS, certificates parsed; an
// ssl_cert that is not PEM certificates is refused, never dropped.
func TestClientCertificate(t *testing.T) {
	ca, leaf := testcert.ClientPair(t, "client.example.org")
	leafPEM, caPEM := string(leaf.CertPEM()), string(ca.CertPEM())
	tests := []struct {
		name     string
		ssl      bool
		cert     string // ssl_cert, "" for none
		protocol string // AJP_SSL_PROTOCOL, "" for none
		wantCNs  []string
		version  uint16
		wantLog  string // a refusal with 400 when set
	}{
		// runtime/internal/clientcert's tests cover the PEM and the protocol
		// names; these, what the AJP server does with them.
		{"a certificate and its chain", true, leafPEM + caPEM, "TLSv1.3", []string{"client.example.org", "Test CA"}, tls.VersionTLS13, ""},
		{"TLS without a client certificate", true, "", "TLSv1.2", nil, tls.VersionTLS12, ""},
		{"not PEM", true, "MIIB...", "", nil, 0, "ssl_cert of 7 bytes holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &recorder{}
			l, logs := start(t, &Server{Handler: h})
			f := get("/")
			f.ssl = tt.ssl
			if tt.cert != "" {
				f.attrs = append(f.attrs, attr{code: attrSSLCert, value: tt.cert})
			}
			if tt.protocol != "" {
				f.attrs = append(f.attrs, attr{code: attrReqAttr, name: "AJP_SSL_PROTOCOL", value: tt.protocol})
			}
			c := dial(t, l)
			r := c.roundTrip(nil, f.packet())
			if tt.wantLog != "" {
				if r.status != 400 || r.reuse || !c.closed() || h.count() != 0 {
					t.Fatalf("status %d reuse %v calls %d, want 400, reuse=0, closed, handler not called", r.status, r.reuse, h.count())
				}
				if lines := logs.Lines(); len(lines) != 1 || !strings.Contains(lines[0], tt.wantLog) {
					t.Errorf("log %q, want one line containing %q", lines, tt.wantLog)
				}
				return
			}
			if r.status != 200 {
				t.Fatalf("status %d, want 200", r.status)
			}
			got := h.last(t)
			if got.tlsState == nil || !got.tlsState.HandshakeComplete || got.tlsState.Version != tt.version {
				t.Fatalf("r.TLS = %+v, want a complete handshake, version %#x", got.tlsState, tt.version)
			}
			var cns []string
			for _, c := range got.tlsState.PeerCertificates {
				cns = append(cns, c.Subject.CommonName)
			}
			if !slices.Equal(cns, tt.wantCNs) {
				t.Errorf("peer certificates %q, want %q", cns, tt.wantCNs)
			}
			if got.attrs.SSLCert != tt.cert {
				t.Errorf("Attributes.SSLCert %q, want the PEM as sent", got.attrs.SSLCert)
			}
		})
	}

	t.Run("a certificate without is_ssl is not TLS", func(t *testing.T) {
		h := &recorder{}
		l, _ := start(t, &Server{Handler: h})
		f := get("/")
		f.attrs = []attr{{code: attrSSLCert, value: "not even PEM"}}
		if r := dial(t, l).roundTrip(nil, f.packet()); r.status != 200 {
			t.Fatalf("status %d, want 200", r.status)
		}
		if got := h.last(t); got.tlsState != nil || got.attrs.SSLCert != "not even PEM" {
			t.Errorf("r.TLS %+v, SSLCert %q: want no TLS state and the attribute kept", got.tlsState, got.attrs.SSLCert)
		}
	})
}

func TestDuplicateContentLengthClosesConnection(t *testing.T) {
	h := &recorder{}
	l, logs := start(t, &Server{Handler: h})
	f := post("/", 3)
	f.headers = append(f.headers, hdr{name: "content-length", value: "30"})
	c := dial(t, l)
	r := c.roundTrip(nil, f.packet())
	if r.status != 400 || r.reuse || !c.closed() || h.count() != 0 {
		t.Fatalf("status %d reuse %v calls %d, want 400, reuse=0, closed", r.status, r.reuse, h.count())
	}
	if lines := logs.Lines(); len(lines) != 1 || !strings.Contains(lines[0], `duplicate Content-Length "30"`) {
		t.Errorf("log %q", lines)
	}
}

func TestBody(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 1200) // 19200 bytes: three packets
	tests := []struct {
		name     string
		srv      *Server
		req      fwd
		first    []string // body packets sent unasked, after the request
		feed     []string // answers to GET_BODY_CHUNK
		status   int
		body     string
		gets     []int
		reuse    bool
		wantErr  bool
		handlerN int // handler calls
	}{
		{name: "no body", req: get("/"), status: 200, reuse: true, handlerN: 1},
		{name: "Content-Length 0", req: post("/", 0), status: 200, reuse: true, handlerN: 1},
		{name: "one packet", req: post("/", 5), first: []string{"hello"}, status: 200, body: "hello", reuse: true, handlerN: 1},
		{
			name: "GET_BODY_CHUNK flow", req: post("/", len(big)),
			first: []string{big[:8186]}, feed: []string{big[8186:16372], big[16372:]},
			status: 200, body: big, gets: []int{8186, len(big) - 16372}, reuse: true, handlerN: 1,
		},
		{
			name: "short packets", req: post("/", 10),
			first: []string{"ab"}, feed: []string{"cde", "fghij"},
			status: 200, body: "abcdefghij", gets: []int{8, 5}, reuse: true, handlerN: 1,
		},
		{
			name: "chunked", req: func() fwd {
				f := get("/")
				f.method = 4
				f.headers = append(f.headers, hdr{name: "Transfer-Encoding", value: "chunked"})
				return f
			}(),
			feed:   []string{"abc", "defg"},
			status: 200, body: "abcdefg", gets: []int{8186, 8186, 8186}, reuse: true, handlerN: 1,
		},
		{
			name: "larger packets", srv: &Server{PacketSize: 65536}, req: post("/", len(big)),
			first:  []string{big},
			status: 200, body: big, reuse: true, handlerN: 1,
		},
		{
			name: "Content-Length over MaxBodyBytes", srv: &Server{MaxBodyBytes: 4}, req: post("/", 5),
			first: []string{"hello"}, status: 413, reuse: true,
		},
		{
			name: "chunked over MaxBodyBytes", srv: &Server{MaxBodyBytes: 4},
			req: func() fwd {
				f := get("/")
				f.method = 4
				f.headers = append(f.headers, hdr{name: "Transfer-Encoding", value: "chunked"})
				return f
			}(),
			feed:   []string{"abc", "de"},
			status: 200, body: "abc", gets: []int{8186, 8186}, reuse: true, wantErr: true, handlerN: 1,
		},
		{
			name: "body ends before Content-Length", req: post("/", 10),
			first: []string{"abc"}, feed: []string{""},
			status: 200, body: "abc", gets: []int{7}, reuse: false, wantErr: true, handlerN: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &recorder{}
			srv := tt.srv
			if srv == nil {
				srv = &Server{}
			}
			srv.Handler = h
			l, logs := start(t, srv)
			c := dial(t, l)
			packets := [][]byte{tt.req.packet()}
			for _, b := range tt.first {
				packets = append(packets, bodyPacket(b))
			}
			r := c.roundTrip(tt.feed, packets...)
			if r.status != tt.status || r.reuse != tt.reuse || fmt.Sprint(r.gets) != fmt.Sprint(tt.gets) {
				t.Fatalf("status %d reuse %v gets %v, want %d %v %v (log %q)", r.status, r.reuse, r.gets, tt.status, tt.reuse, tt.gets, logs.Lines())
			}
			if h.count() != tt.handlerN {
				t.Fatalf("handler called %d times, want %d", h.count(), tt.handlerN)
			}
			if tt.handlerN == 0 {
				return
			}
			got := h.last(t)
			if got.body != tt.body || (got.bodyErr != nil) != tt.wantErr {
				t.Errorf("body %d bytes, error %v; want %d bytes, error %v", len(got.body), got.bodyErr, len(tt.body), tt.wantErr)
			}
			if tt.reuse {
				// The stream must be in step: a second request works.
				if r := c.roundTrip(nil, get("/again").packet()); r.status != 200 || h.last(t).path != "/again" {
					t.Errorf("second request: status %d", r.status)
				}
			} else if !c.closed() {
				t.Error("connection left open after END_RESPONSE reuse=0")
			}
		})
	}
}

func TestMaxBytesErrorType(t *testing.T) {
	var got error
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, got = io.ReadAll(r.Body) })
	l, _ := start(t, &Server{Handler: h, MaxBodyBytes: 2})
	f := get("/")
	f.headers = append(f.headers, hdr{name: "Transfer-Encoding", value: "chunked"})
	dial(t, l).roundTrip([]string{"abc"}, f.packet())
	var mbe *http.MaxBytesError
	if !errors.As(got, &mbe) || mbe.Limit != 2 {
		t.Errorf("Read error %v, want *http.MaxBytesError with Limit 2", got)
	}
}

func TestUnreadBodySwallowed(t *testing.T) {
	tests := []struct {
		name string
		h    http.HandlerFunc
	}{
		{"not read at all", func(w http.ResponseWriter, r *http.Request) {}},
		{"read in part", func(w http.ResponseWriter, r *http.Request) { r.Body.Read(make([]byte, 3)) }},
		{"large response first", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 100000)) }},
		{"413 written by the handler", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "too big", 413) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := start(t, &Server{Handler: tt.h})
			c := dial(t, l)
			body := strings.Repeat("x", 20000)
			for i := 0; i < 3; i++ {
				r := c.roundTrip(nil, post("/", len(body)).packet(), bodyPacket(body[:8186]))
				if !r.reuse || len(r.gets) != 0 {
					t.Fatalf("request %d: reuse %v, asked for %v; want reuse and nothing more asked", i, r.reuse, r.gets)
				}
			}
		})
	}
}

func TestCPing(t *testing.T) {
	l, _ := start(t, &Server{Handler: &recorder{}})
	c := dial(t, l)
	pong := func() {
		t.Helper()
		c.send(cping())
		rp, err := readReply(c.r)
		if err != nil || rp.kind != typeCPongReply {
			t.Fatalf("reply %v, %v; want CPONG", rp, err)
		}
		<-c.werr
	}
	pong()
	if r := c.roundTrip(nil, get("/").packet()); r.status != 200 || !r.reuse {
		t.Fatalf("response %+v", r)
	}
	pong()
	pong()
}

func TestResponse(t *testing.T) {
	big := strings.Repeat("abcdefgh", 5000)
	tests := []struct {
		name   string
		srv    *Server
		req    fwd
		h      http.HandlerFunc
		status int
		header http.Header // each must be present with these values
		absent []string
		body   string
		chunks int // -1: do not check
		check  func(*testing.T, resp)
	}{
		{
			name:   "small body gets Content-Length and sniffed type",
			h:      func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>hi</html>") },
			status: 200, body: "<html>hi</html>", chunks: 1,
			header: http.Header{"Content-Length": {"15"}, "Content-Type": {"text/html; charset=utf-8"}},
		},
		{
			name: "coded and named headers, repeated Set-Cookie",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Add("Set-Cookie", "a=1")
				w.Header().Add("Set-Cookie", "b=2")
				w.Header().Set("Location", "/next")
				w.Header().Set("X-Frame-Options", "DENY")
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(302)
			},
			status: 302, chunks: 0,
			header: http.Header{"Set-Cookie": {"a=1", "b=2"}, "Location": {"/next"}, "X-Frame-Options": {"DENY"}, "Content-Length": {"0"}},
		},
		{
			name: "header value with newline",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-A", "a\r\nSet-Cookie: evil")
			},
			status: 200, chunks: 0, header: http.Header{"X-A": {"a  Set-Cookie: evil"}}, absent: []string{"Set-Cookie"},
		},
		{
			name: "headers changed after WriteHeader are not sent",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(201)
				w.Header().Set("X-Late", "1")
			},
			status: 201, chunks: 0, absent: []string{"X-Late"},
		},
		{
			name:   "large body in packet-sized chunks",
			h:      func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(big)) },
			status: 200, body: big, chunks: -1, absent: []string{"Content-Length"},
			check: func(t *testing.T, r resp) {
				if want := (len(big) + 8183) / 8184; r.chunks != want {
					t.Errorf("%d chunks, want %d of at most 8184 bytes", r.chunks, want)
				}
			},
		},
		{
			name:   "large body with 64 KiB packets",
			srv:    &Server{PacketSize: 65536},
			h:      func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(big)) },
			status: 200, body: big, chunks: 1, header: http.Header{"Content-Length": {fmt.Sprint(len(big))}},
		},
		{
			name: "many small writes coalesce",
			h: func(w http.ResponseWriter, r *http.Request) {
				for i := 0; i < 5000; i++ {
					io.WriteString(w, "abcdefgh")
				}
			},
			status: 200, body: big, chunks: 5,
		},
		{
			name:   "HEAD: length, no body",
			req:    func() fwd { f := get("/"); f.method = 3; return f }(),
			h:      func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") },
			status: 200, chunks: 0, header: http.Header{"Content-Length": {"5"}, "Content-Type": {"text/plain; charset=utf-8"}},
		},
		{
			name: "204 refuses a body",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(204)
				if _, err := w.Write([]byte("x")); err != http.ErrBodyNotAllowed {
					panic(fmt.Sprintf("Write error %v", err))
				}
			},
			status: 204, chunks: 0, absent: []string{"Content-Length"},
		},
		{
			name: "write past Content-Length",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "2")
				if _, err := io.WriteString(w, "abc"); err != http.ErrContentLength {
					panic(fmt.Sprintf("Write error %v", err))
				}
				io.WriteString(w, "ab")
			},
			status: 200, body: "ab", chunks: 1, header: http.Header{"Content-Length": {"2"}},
		},
		{
			name: "Flush sends headers and an empty chunk",
			h: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "a")
				w.(http.Flusher).Flush()
				io.WriteString(w, "b")
				if err := http.NewResponseController(w).Flush(); err != nil {
					panic(err)
				}
			},
			status: 200, body: "ab", chunks: 4, absent: []string{"Content-Length"},
			check: func(t *testing.T, r resp) {
				if r.flushes != 2 {
					t.Errorf("%d flush packets, want 2", r.flushes)
				}
			},
		},
		{
			name:   "unknown status",
			h:      func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(599) },
			status: 599, chunks: 0,
		},
		{
			name:   "1xx ignored",
			h:      func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(103); w.WriteHeader(202) },
			status: 202, chunks: 0,
		},
		{
			name: "headers larger than a packet become 500",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Big", strings.Repeat("x", 9000))
				if _, err := io.WriteString(w, strings.Repeat("y", 9000)); err == nil {
					panic("write succeeded after the headers failed")
				}
			},
			status: 500, chunks: 0, absent: []string{"X-Big"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := tt.srv
			if srv == nil {
				srv = &Server{}
			}
			srv.Handler = tt.h
			l, logs := start(t, srv)
			c := dial(t, l)
			req := tt.req
			if req.uri == "" {
				req = get("/")
			}
			r := c.roundTrip(nil, req.packet())
			if r.status != tt.status || r.body != tt.body || (tt.chunks >= 0 && r.chunks != tt.chunks) {
				t.Fatalf("status %d, %d body bytes in %d chunks; want %d, %d in %d (log %q)", r.status, len(r.body), r.chunks, tt.status, len(tt.body), tt.chunks, logs.Lines())
			}
			for k, v := range tt.header {
				if fmt.Sprint(r.header[k]) != fmt.Sprint(v) {
					t.Errorf("header %s = %q, want %q", k, r.header[k], v)
				}
			}
			for _, k := range tt.absent {
				if v, ok := r.header[k]; ok {
					t.Errorf("header %s = %q, want none", k, v)
				}
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestReuseAfterError(t *testing.T) {
	tests := []struct {
		name   string
		h      http.HandlerFunc
		status int
		reuse  bool
		logged string
	}{
		{"panic before writing", func(w http.ResponseWriter, r *http.Request) { panic("boom") }, 500, true, "boom"},
		{"panic after buffered writes", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "partial"); panic("boom") }, 500, true, "boom"},
		{"panic after flush", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
			panic("boom")
		}, 200, false, "boom"},
		{"ErrAbortHandler after flush", func(w http.ResponseWriter, r *http.Request) {
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}, 200, false, ""},
		{"short of Content-Length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "10")
			io.WriteString(w, "abc")
		}, 200, false, "wrote 3 of the 10 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, logs := start(t, &Server{Handler: tt.h})
			c := dial(t, l)
			r := c.roundTrip(nil, get("/").packet())
			if r.status != tt.status || r.reuse != tt.reuse {
				t.Fatalf("status %d reuse %v, want %d %v", r.status, r.reuse, tt.status, tt.reuse)
			}
			if tt.reuse {
				if r := c.roundTrip(nil, get("/").packet()); r.status != tt.status {
					t.Errorf("second request on the connection: status %d", r.status)
				}
			} else if !c.closed() {
				t.Error("connection left open")
			}
			out := logs.String()
			if tt.logged == "" {
				if out != "" {
					t.Errorf("logged %q, want nothing", out)
				}
			} else if !strings.HasPrefix(out, "ajp: 192.0.2.1:4242: ") || !strings.Contains(out, tt.logged) {
				t.Errorf("log %q, want a line about the peer mentioning %q", out, tt.logged)
			}
		})
	}
}

func TestMalformedInput(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		log  string
	}{
		{"HTTP instead of AJP", []byte("GET / HTTP/1.1\r\n\r\n"), "ajp: 192.0.2.1:4242: packet magic 0x4745, want 0x1234"},
		{"packet larger than the packet size", []byte{0x12, 0x34, 0x20, 0x00}, "ajp: 192.0.2.1:4242: packet length 8196 exceeds packet size 8192"},
		{"truncated header", []byte{0x12, 0x34, 0x00}, "ajp: 192.0.2.1:4242: connection closed inside a packet header"},
		{"truncated payload", []byte{0x12, 0x34, 0x00, 0x10, 2, 2}, "ajp: 192.0.2.1:4242: connection closed inside a packet of 16 bytes"},
		{"empty packet", frame(nil), "ajp: 192.0.2.1:4242: empty packet, want a prefix code"},
		{"unknown type", frame([]byte{42}), "ajp: 192.0.2.1:4242: packet type 42, want FORWARD_REQUEST (2) or CPING (10)"},
		{"shutdown", frame([]byte{typeShutdown}), "ajp: 192.0.2.1:4242: SHUTDOWN packet refused; close the connection instead"},
		{"bad forward request", frame(append(get("/").payload(), 1, 2)), "ajp: 192.0.2.1:4242: 2 bytes after the attribute terminator, want none"},
		{"body packet between requests", bodyPacket("abc"), "ajp: 192.0.2.1:4242: packet type 0, want FORWARD_REQUEST (2) or CPING (10)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &recorder{}
			l, logs := start(t, &Server{Handler: h})
			c := dial(t, l)
			go func() {
				c.conn.Write(tt.in)
				// Truncated input ends with the peer going away.
				c.conn.Close()
			}()
			lines := logs.Wait(1)
			if len(lines) != 1 || lines[0] != tt.log {
				t.Errorf("log %q, want one line %q", lines, tt.log)
			}
			if h.count() != 0 {
				t.Error("handler called")
			}
		})
	}
}

func TestOverloaded(t *testing.T) {
	tests := []struct {
		name string
		srv  *Server
	}{
		{"Pool refuses", &Server{Pool: refusingPool{}}},
		{"MaxRequests reached", &Server{MaxRequests: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &recorder{}
			entered, release := make(chan struct{}), make(chan struct{})
			tt.srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/block" {
					close(entered)
					<-release
					return
				}
				h.ServeHTTP(w, r)
			})
			l, _ := start(t, tt.srv)
			if tt.srv.MaxRequests == 1 {
				// Hold the only slot on another connection.
				blocker := dial(t, l)
				blocker.send(get("/block").packet())
				<-entered
				defer close(release)
			}
			c := dial(t, l)
			r := c.roundTrip(nil, post("/", 5).packet(), bodyPacket("hello"))
			if r.status != 503 || !r.reuse || h.count() != 0 {
				t.Fatalf("status %d reuse %v calls %d, want 503, reuse=1, handler not called", r.status, r.reuse, h.count())
			}
			// The unread body was swallowed: the connection is in step.
			c.send(cping())
			if rp, err := readReply(c.r); err != nil || rp.kind != typeCPongReply {
				t.Errorf("after the 503: %v, %v; want CPONG", rp, err)
			}
		})
	}
}

type refusingPool struct{}

func (refusingPool) Go(func()) bool { return false }

type goPool struct{}

func (goPool) Go(f func()) bool { go f(); return true }

func TestPoolRunsHandler(t *testing.T) {
	h := &recorder{}
	l, _ := start(t, &Server{Handler: h, Pool: goPool{}})
	c := dial(t, l)
	for i := 0; i < 2; i++ {
		if r := c.roundTrip(nil, post("/", 2).packet(), bodyPacket("ab")); r.status != 200 || !r.reuse || h.last(t).body != "ab" {
			t.Fatalf("request %d: %+v", i, r)
		}
	}
}

func TestShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(entered)
			<-release
		}
		io.WriteString(w, "done")
	}), ErrorLog: log.New(io.Discard, "", 0)}
	l := pipenet.Listen(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	idle := dial(t, l)
	if r := idle.roundTrip(nil, get("/").packet()); r.status != 200 || !r.reuse {
		t.Fatalf("first request: %+v", r)
	}
	busy := dial(t, l)
	busy.send(get("/slow").packet())
	<-entered

	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	if !idle.closed() {
		t.Error("idle connection not closed by Shutdown")
	}
	close(release)
	r, err := readResponse(busy.r, busy.conn)
	if err != nil || r.status != 200 || r.body != "done" || r.reuse {
		t.Errorf("in-flight request: %+v, %v; want it finished with reuse=0", r, err)
	}
	if !busy.closed() {
		t.Error("connection of the finished request left open")
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; err != http.ErrServerClosed {
		t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
	}
}

func TestReadTimeout(t *testing.T) {
	// A body packet that never comes: the connection is dropped with one
	// line, not held forever.
	got := make(chan error, 1)
	l, logs := start(t, &Server{ReadTimeout: time.Millisecond, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		got <- err
	})})
	c := dial(t, l)
	c.send(post("/", 5).packet())
	go io.Copy(io.Discard, c.conn)
	if err := <-got; err == nil {
		t.Fatal("body read succeeded without a body")
	}
	if lines := logs.Wait(1); len(lines) != 1 || !strings.Contains(lines[0], "timeout") {
		t.Errorf("log %q, want one line about the timeout", lines)
	}
}

func TestMaxHeaderBytes(t *testing.T) {
	h := &recorder{}
	l, logs := start(t, &Server{Handler: h, MaxHeaderBytes: 100})
	f := post("/", 3)
	f.headers = append(f.headers, hdr{name: "X-Padding", value: strings.Repeat("p", 100)})
	c := dial(t, l)
	r := c.roundTrip(nil, f.packet(), bodyPacket("abc"))
	if r.status != 431 || !r.reuse || h.count() != 0 {
		t.Fatalf("status %d reuse %v calls %d, want 431, reuse=1, handler not called", r.status, r.reuse, h.count())
	}
	if lines := logs.Lines(); len(lines) != 1 || !strings.Contains(lines[0], "exceeds MaxHeaderBytes 100") {
		t.Errorf("log %q", lines)
	}
	if r := c.roundTrip(nil, get("/").packet()); r.status != 200 {
		t.Errorf("next request: status %d", r.status)
	}
}
