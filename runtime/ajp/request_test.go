package ajp

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/appgen/appgen/runtime/internal/request"
)

func TestDecodeForwardRequest(t *testing.T) {
	tests := []struct {
		name   string
		req    fwd
		edit   func([]byte) []byte // changes the encoded payload
		method string
		check  func(*testing.T, *forwardRequest)
		status int    // want a *requestError with this status
		err    string // want a framing error containing this
	}{
		{name: "coded GET", req: get("/x"), method: "GET"},
		{name: "extended method MKACTIVITY", req: func() fwd { f := get("/x"); f.method = 27; return f }(), method: "MKACTIVITY"},
		{name: "extended method PROPFIND", req: func() fwd { f := get("/x"); f.method = 8; return f }(), method: "PROPFIND"},
		{
			name: "stored method",
			req: func() fwd {
				f := get("/x")
				f.method = 0xFF
				f.attrs = []attr{{code: attrStoredMeth, value: "PATCH"}}
				return f
			}(),
			method: "PATCH",
		},
		{
			name:   "stored method missing",
			req:    func() fwd { f := get("/x"); f.method = 0xFF; return f }(),
			status: 400,
		},
		{
			name: "stored method not a token",
			req: func() fwd {
				f := get("/x")
				f.method = 0xFF
				f.attrs = []attr{{code: attrStoredMeth, value: "GE T"}}
				return f
			}(),
			status: 400,
		},
		{name: "undefined method code", req: func() fwd { f := get("/x"); f.method = 28; return f }(), status: 501},
		{name: "method code 0", req: func() fwd { f := get("/x"); f.method = 0; return f }(), status: 501},
		{
			name: "coded and named headers",
			req: func() fwd {
				f := get("/x")
				f.headers = append(f.headers, hdr{code: 0xA00E, value: "curl"}, hdr{name: "x-forwarded-for", value: "203.0.113.9"},
					hdr{code: 0xA009, value: "a=1"}, hdr{code: 0xA009, value: "b=2"})
				return f
			}(),
			method: "GET",
			check: func(t *testing.T, fr *forwardRequest) {
				want := []request.Param{{Name: "Host", Value: "example.org"}, {Name: "User-Agent", Value: "curl"}, {Name: "X-Forwarded-For", Value: "203.0.113.9"}, {Name: "Cookie", Value: "a=1"}, {Name: "Cookie", Value: "b=2"}}
				if len(fr.header) != len(want) {
					t.Fatalf("headers %v, want %v", fr.header, want)
				}
				for i := range want {
					if fr.header[i] != want[i] {
						t.Errorf("header %d = %v, want %v", i, fr.header[i], want[i])
					}
				}
			},
		},
		{
			name: "every attribute",
			req: func() fwd {
				f := get("/x")
				f.attrs = []attr{
					{code: attrRemoteUser, value: "alice"}, {code: attrAuthType, value: "Basic"},
					{code: attrQueryString, value: "a=1&b=%C3%A9"}, {code: attrRoute, value: "node1"},
					{code: attrSSLCert, value: "-----BEGIN CERTIFICATE-----"}, {code: attrSSLCipher, value: "TLS_AES_128_GCM_SHA256"},
					{code: attrSSLSession, value: "abcd"}, {code: attrSSLKeySize, num: 128},
					{code: attrReqAttr, name: "AJP_REMOTE_PORT", value: "51234"}, {code: attrReqAttr, name: "AJP_LOCAL_ADDR", value: "127.0.0.1"},
					{code: attrSecret, value: "s3cret"},
				}
				return f
			}(),
			method: "GET",
			check: func(t *testing.T, fr *forwardRequest) {
				a := fr.attrs
				if a.RemoteUser != "alice" || a.AuthType != "Basic" || a.Route != "node1" || a.SSLCipher != "TLS_AES_128_GCM_SHA256" ||
					a.SSLSession != "abcd" || a.SSLKeySize != 128 || !strings.HasPrefix(a.SSLCert, "-----BEGIN") {
					t.Errorf("attributes %+v", a)
				}
				if fr.remotePort != "51234" || a.LocalAddr != "127.0.0.1" {
					t.Errorf("req_attributes: port %q, local address %q", fr.remotePort, a.LocalAddr)
				}
				if !fr.hasQuery || fr.query != "a=1&b=%C3%A9" {
					t.Errorf("query %q (sent %v)", fr.query, fr.hasQuery)
				}
				if !fr.hasSecret || fr.secret != "s3cret" {
					t.Errorf("secret %q (sent %v)", fr.secret, fr.hasSecret)
				}
			},
		},
		{
			name: "javax.servlet.include smuggling",
			req: func() fwd {
				f := get("/x")
				f.attrs = []attr{{code: attrReqAttr, name: "javax.servlet.include.path_info", value: "/WEB-INF/web.xml"}}
				return f
			}(),
			status: 403,
		},
		{
			name: "unlisted req_attribute",
			req: func() fwd {
				f := get("/x")
				f.attrs = []attr{{code: attrReqAttr, name: "AJP_REMOTE_PORTX", value: "1"}}
				return f
			}(),
			status: 403,
		},
		{name: "context attribute", req: func() fwd { f := get("/x"); f.attrs = []attr{{code: attrContextPath, value: "/"}}; return f }(), status: 403},
		{name: "servlet_path attribute", req: func() fwd { f := get("/x"); f.attrs = []attr{{code: attrServletPath, value: "/"}}; return f }(), status: 403},
		{
			name: "duplicate Content-Length",
			req: func() fwd {
				f := post("/x", 3)
				f.headers = append(f.headers, hdr{name: "Content-Length", value: "3"})
				return f
			}(),
			status: 400,
		},
		{
			name: "Content-Length with Transfer-Encoding",
			req: func() fwd {
				f := post("/x", 3)
				f.headers = append(f.headers, hdr{name: "Transfer-Encoding", value: "chunked"})
				return f
			}(),
			status: 400,
		},
		{name: "negative Content-Length", req: post("/x", -1), status: 400},
		{
			name:   "Content-Length with a sign",
			req:    func() fwd { f := get("/x"); f.headers = append(f.headers, hdr{code: 0xA008, value: "+5"}); return f }(),
			status: 400,
		},
		{
			name: "Transfer-Encoding gzip",
			req: func() fwd {
				f := get("/x")
				f.headers = append(f.headers, hdr{name: "Transfer-Encoding", value: "gzip"})
				return f
			}(),
			status: 501,
		},
		{
			name: "chunked",
			req: func() fwd {
				f := get("/x")
				f.headers = append(f.headers, hdr{name: "Transfer-Encoding", value: "Chunked"})
				return f
			}(),
			method: "GET",
			check: func(t *testing.T, fr *forwardRequest) {
				if !fr.chunked || fr.contentLength != -1 {
					t.Errorf("chunked=%v contentLength=%d", fr.chunked, fr.contentLength)
				}
			},
		},
		{
			name: "header value with CR LF",
			req: func() fwd {
				f := get("/x")
				f.headers = append(f.headers, hdr{name: "X-A", value: "a\r\nSet-Cookie: x"})
				return f
			}(),
			status: 400,
		},
		{
			name:   "header name not a token",
			req:    func() fwd { f := get("/x"); f.headers = append(f.headers, hdr{name: "X A", value: "a"}); return f }(),
			status: 400,
		},
		{name: "empty req_uri", req: get(""), status: 400},
		{name: "unknown header code", req: func() fwd { f := get("/x"); f.headers = append(f.headers, hdr{code: 0xA00F, value: "a"}); return f }(), err: "header code 0xa00f"},
		{name: "unknown attribute code", req: func() fwd { f := get("/x"); f.attrs = []attr{{code: 0x0E, value: "a"}}; return f }(), err: "attribute code 0x0e"},
		{name: "truncated", req: get("/x"), edit: func(b []byte) []byte { return b[:len(b)-3] }, err: "packet ends early"},
		{name: "no terminator", req: get("/x"), edit: func(b []byte) []byte { return b[:len(b)-1] }, err: "packet ends early"},
		{name: "trailing bytes", req: get("/x"), edit: func(b []byte) []byte { return append(b, 0) }, err: "after the attribute terminator"},
		{
			name: "string without NUL",
			req:  get("/x"),
			edit: func(b []byte) []byte { b[2+2+len("HTTP/1.1")] = 'x'; return b },
			err:  "not NUL-terminated",
		},
		{name: "is_ssl not boolean", req: get("/x"), edit: func(b []byte) []byte {
			i := 2 + (2 + 8 + 1) + (2 + 2 + 1) + (2 + 9 + 1) + 2 + (2 + 11 + 1) + 2
			b[i] = 7
			return b
		}, err: "want a boolean"},
		{name: "wrong prefix", req: get("/x"), edit: func(b []byte) []byte { b[0] = 3; return b }, err: "want FORWARD_REQUEST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.req.payload()
			if tt.edit != nil {
				p = tt.edit(p)
			}
			fr, err := decodeForwardRequest(p)
			var re *requestError
			switch {
			case tt.status != 0:
				if !errors.As(err, &re) || re.status != tt.status {
					t.Fatalf("error %v, want a refusal with status %d", err, tt.status)
				}
				if !strings.HasPrefix(err.Error(), "ajp: ") {
					t.Errorf("error %q lacks the package prefix", err)
				}
			case tt.err != "":
				if err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want a framing error containing %q", err, tt.err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if fr.method != tt.method {
					t.Errorf("method %q, want %q", fr.method, tt.method)
				}
				if tt.check != nil {
					tt.check(t, fr)
				}
			}
		})
	}
}

func TestMethodCodes(t *testing.T) {
	// The extended codes are what mod_proxy_ajp's ajp_header.c and mod_jk
	// send; a gap or a misspelling would turn a WebDAV request into 501.
	want := "OPTIONS GET HEAD POST PUT DELETE TRACE PROPFIND PROPPATCH MKCOL COPY MOVE LOCK UNLOCK ACL REPORT " +
		"VERSION-CONTROL CHECKIN CHECKOUT UNCHECKOUT SEARCH MKWORKSPACE UPDATE LABEL MERGE BASELINE-CONTROL MKACTIVITY"
	if got := strings.Join(methods[1:], " "); got != want {
		t.Errorf("methods\n got %s\nwant %s", got, want)
	}
}

// TestRequestAsGatewayBuildsIt pins issue 14's drift between AJP's request
// and FastCGI/SCGI's: each case failed when AJP built its request itself.
func TestRequestAsGatewayBuildsIt(t *testing.T) {
	tests := []struct {
		name  string
		req   fwd
		check func(*testing.T, *http.Request)
	}{
		{
			name: "no server name and no Host: no http:///x URL",
			req:  fwd{method: 2, protocol: "HTTP/1.1", uri: "/x", remoteAddr: "192.0.2.7"},
			check: func(t *testing.T, r *http.Request) {
				if s := r.URL.String(); s != "/x" {
					t.Errorf("URL %q, want /x", s)
				}
				if r.Host != "" {
					t.Errorf("Host %q, want empty", r.Host)
				}
			},
		},
		{
			name: "Host is r.Host, not a header",
			req:  get("/x"),
			check: func(t *testing.T, r *http.Request) {
				if r.Host != "example.org" {
					t.Errorf("Host %q, want example.org", r.Host)
				}
				if v, ok := r.Header["Host"]; ok {
					t.Errorf("r.Header holds Host %q, as net/http's server never does", v)
				}
			},
		},
		{
			name: "HTTP/2 as gateway reads it",
			req:  func() fwd { f := get("/x"); f.protocol = "HTTP/2"; return f }(),
			check: func(t *testing.T, r *http.Request) {
				if r.ProtoMajor != 2 || r.ProtoMinor != 0 {
					t.Errorf("proto %d.%d, want 2.0", r.ProtoMajor, r.ProtoMinor)
				}
			},
		},
		{
			name: "server name without Host, port kept",
			req:  fwd{method: 2, protocol: "HTTP/1.1", uri: "/x", serverName: "example.org", port: 8080},
			check: func(t *testing.T, r *http.Request) {
				if r.Host != "example.org:8080" || r.URL.String() != "http://example.org:8080/x" {
					t.Errorf("Host %q URL %q, want example.org:8080 and http://example.org:8080/x", r.Host, r.URL)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr, err := decodeForwardRequest(tt.req.payload())
			if err != nil {
				t.Fatal(err)
			}
			r, err := fr.httpRequest(context.Background(), http.NoBody, "")
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
		})
	}
}
