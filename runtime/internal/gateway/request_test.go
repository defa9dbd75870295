package gateway

import (
	"github.com/appgen/appgen/runtime/internal/request"

	"crypto/tls"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/appgen/appgen/runtime/testsupport/testcert"
)

// params builds a parameter list from "NAME=value" strings.
func params(kv ...string) []Param {
	ps := make([]Param, len(kv))
	for i, s := range kv {
		n, v, _ := strings.Cut(s, "=")
		ps[i] = Param{Name: n, Value: v}
	}
	return ps
}

func str(s string) *string { return &s }

func TestNewRequestScriptName(t *testing.T) {
	tests := []struct {
		name       string
		params     []Param
		force      *string
		wantScript string
		wantPath   string
	}{
		{"root, PATH_INFO", params("REQUEST_METHOD=GET", "REQUEST_URI=/a/b", "PATH_INFO=/a/b"), nil, "", "/a/b"},
		{"SCRIPT_NAME and PATH_INFO (lighttpd)", params("REQUEST_METHOD=GET", "REQUEST_URI=/foo/bar", "SCRIPT_NAME=/mysite.fcgi", "PATH_INFO=/foo/bar"), nil, "/mysite.fcgi", "/foo/bar"},
		{"SCRIPT_NAME without PATH_INFO: path from REQUEST_URI", params("REQUEST_METHOD=GET", "REQUEST_URI=/app/x/y?q=1", "SCRIPT_NAME=/app"), nil, "/app", "/x/y"},
		{"SCRIPT_NAME not a prefix of REQUEST_URI", params("REQUEST_METHOD=GET", "REQUEST_URI=/other/x", "SCRIPT_NAME=/app"), nil, "/app", "/other/x"},
		{"SCRIPT_NAME is a prefix only by bytes", params("REQUEST_METHOD=GET", "REQUEST_URI=/application/x", "SCRIPT_NAME=/app"), nil, "/app", "/application/x"},
		{"SCRIPT_URL minus PATH_INFO", params("REQUEST_METHOD=GET", "REQUEST_URI=/app/x", "SCRIPT_URL=/app/x", "PATH_INFO=/x", "SCRIPT_NAME=/internal.fcgi"), nil, "/app", "/x"},
		{"REDIRECT_URL when no SCRIPT_URL", params("REQUEST_METHOD=GET", "REDIRECT_URL=/pre/fix/x", "PATH_INFO=/x", "SCRIPT_NAME=/s.fcgi"), nil, "/pre/fix", "/x"},
		{"SCRIPT_URL wins over REDIRECT_URL", params("REQUEST_METHOD=GET", "REDIRECT_URL=/r/x", "SCRIPT_URL=/s/x", "PATH_INFO=/x"), nil, "/s", "/x"},
		{"SCRIPT_URL double slashes collapsed", params("REQUEST_METHOD=GET", "SCRIPT_URL=//app//x", "PATH_INFO=/x"), nil, "/app", "/x"},
		{"SCRIPT_URL without PATH_INFO is the script name", params("REQUEST_METHOD=GET", "REQUEST_URI=/app/", "SCRIPT_URL=/app/"), nil, "/app", "/"},
		{"PATH_INFO longer than SCRIPT_URL", params("REQUEST_METHOD=GET", "SCRIPT_URL=/x", "PATH_INFO=/longer"), nil, "", "/longer"},
		{"ForceScriptName wins", params("REQUEST_METHOD=GET", "SCRIPT_URL=/app/x", "PATH_INFO=/x", "SCRIPT_NAME=/s"), str("/forced/"), "/forced", "/x"},
		{"ForceScriptName empty (lighttpd at the root)", params("REQUEST_METHOD=GET", "SCRIPT_NAME=/mysite.fcgi", "PATH_INFO=/foo"), str(""), "", "/foo"},
		{"empty PATH_INFO means /", params("REQUEST_METHOD=GET", "REQUEST_URI=/app", "SCRIPT_NAME=/app", "PATH_INFO="), nil, "/app", "/"},
		{"no REQUEST_URI and no PATH_INFO", params("REQUEST_METHOD=GET"), nil, "", "/"},
		{"SCRIPT_NAME slash only", params("REQUEST_METHOD=GET", "REQUEST_URI=/x", "SCRIPT_NAME=/"), nil, "", "/x"},
		{"escaped REQUEST_URI is decoded", params("REQUEST_METHOD=GET", "REQUEST_URI=/app/caf%C3%A9%20x", "SCRIPT_NAME=/app"), nil, "/app", "/café x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRequest(tt.params, nil, &Config{ForceScriptName: tt.force})
			if err != nil {
				t.Fatal(err)
			}
			if got := request.ScriptName(r); got != tt.wantScript {
				t.Errorf("ScriptName = %q, want %q", got, tt.wantScript)
			}
			if r.URL.Path != tt.wantPath {
				t.Errorf("URL.Path = %q, want %q", r.URL.Path, tt.wantPath)
			}
		})
	}
}

func TestNewRequestFields(t *testing.T) {
	body := io.NopCloser(strings.NewReader("hello"))
	r, err := NewRequest(params(
		"REQUEST_METHOD=POST",
		"SERVER_PROTOCOL=HTTP/1.0",
		"REQUEST_URI=/app/p?x=1&y=2",
		"QUERY_STRING=x=1&y=2",
		"SCRIPT_NAME=/app",
		"PATH_INFO=/p",
		"CONTENT_LENGTH=5",
		"CONTENT_TYPE=text/plain",
		"REMOTE_ADDR=::1",
		"REMOTE_PORT=51234",
		"HTTPS=on",
		"HTTP_HOST=example.com:8443",
		"HTTP_USER_AGENT=test/1",
		"HTTP_X_CUSTOM_THING=a",
		"HTTP_PROXY=http://evil/",
		// Found by FuzzNewRequest: a variable in another case became a
		// Proxy header that the httpoxy filter did not see.
		"HTTP_PrOXY=http://evil/",
		"HTTP_content_length=99",
		"SERVER_NAME=ignored",
	), body, nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"Method", r.Method, "POST"},
		{"Proto", r.Proto, "HTTP/1.0"},
		{"RequestURI", r.RequestURI, "/app/p?x=1&y=2"},
		{"URL", r.URL.String(), "https://example.com:8443/p?x=1&y=2"},
		{"Host", r.Host, "example.com:8443"},
		{"RemoteAddr", r.RemoteAddr, "[::1]:51234"},
		{"Content-Type", r.Header.Get("Content-Type"), "text/plain"},
		{"Content-Length", r.Header.Get("Content-Length"), "5"},
		{"User-Agent", r.Header.Get("User-Agent"), "test/1"},
		{"X-Custom-Thing", r.Header.Get("X-Custom-Thing"), "a"},
		{"Proxy", r.Header.Get("Proxy"), ""},
		{"Host header", r.Header.Get("Host"), ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if r.ProtoMajor != 1 || r.ProtoMinor != 0 {
		t.Errorf("ProtoMajor.ProtoMinor = %d.%d, want 1.0", r.ProtoMajor, r.ProtoMinor)
	}
	if r.ContentLength != 5 {
		t.Errorf("ContentLength = %d, want 5", r.ContentLength)
	}
	if r.TLS == nil {
		t.Error("TLS = nil, want non-nil with HTTPS=on")
	}
	if q := r.URL.Query().Get("y"); q != "2" {
		t.Errorf("query y = %q, want 2", q)
	}
	b, _ := io.ReadAll(r.Body)
	if string(b) != "hello" {
		t.Errorf("body = %q, want hello", b)
	}
}

func TestNewRequestDefaults(t *testing.T) {
	tests := []struct {
		name                                 string
		params                               []Param
		wantHost, wantURI, wantRemote, wantS string
	}{
		{"host from SERVER_NAME and SERVER_PORT", params("REQUEST_METHOD=GET", "SERVER_NAME=h", "SERVER_PORT=8080", "REQUEST_URI=/"), "h:8080", "/", "", "http"},
		{"REQUEST_URI rebuilt", params("REQUEST_METHOD=GET", "SCRIPT_NAME=/app", "PATH_INFO=/a b", "QUERY_STRING=q=1"), "", "/app/a%20b?q=1", "", ""},
		{"query from REQUEST_URI when no QUERY_STRING", params("REQUEST_METHOD=GET", "REQUEST_URI=/x?a=b"), "", "/x?a=b", "", ""},
		{"remote without port", params("REQUEST_METHOD=GET", "REMOTE_ADDR=10.0.0.1"), "", "/", "10.0.0.1:0", ""},
		{"HTTPS=off", params("REQUEST_METHOD=GET", "HTTPS=off", "HTTP_HOST=h"), "h", "/", "", "http"},
		{"HTTPS=1", params("REQUEST_METHOD=GET", "HTTPS=1"), "", "/", "", "https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRequest(tt.params, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.Host != tt.wantHost || r.RequestURI != tt.wantURI || r.RemoteAddr != tt.wantRemote || r.URL.Scheme != tt.wantS {
				t.Errorf("Host, RequestURI, RemoteAddr, scheme = %q, %q, %q, %q; want %q, %q, %q, %q",
					r.Host, r.RequestURI, r.RemoteAddr, r.URL.Scheme, tt.wantHost, tt.wantURI, tt.wantRemote, tt.wantS)
			}
			if r.Body != http.NoBody {
				t.Errorf("Body = %T, want http.NoBody", r.Body)
			}
			if r.URL.RawQuery != "" {
				if _, q, _ := strings.Cut(r.RequestURI, "?"); q != r.URL.RawQuery {
					t.Errorf("RawQuery = %q, want %q", r.URL.RawQuery, q)
				}
			}
		})
	}
}

func TestNewRequestErrors(t *testing.T) {
	tests := []struct {
		name    string
		params  []Param
		wantErr string
	}{
		{"no method", params("REQUEST_URI=/"), "bad REQUEST_METHOD"},
		{"method with space", params("REQUEST_METHOD=G T"), "bad REQUEST_METHOD"},
		{"bad protocol", params("REQUEST_METHOD=GET", "SERVER_PROTOCOL=HTTP/x"), "bad SERVER_PROTOCOL"},
		{"HTTP/1 without minor", params("REQUEST_METHOD=GET", "SERVER_PROTOCOL=HTTP/1"), "bad SERVER_PROTOCOL"},
		{"negative length", params("REQUEST_METHOD=GET", "CONTENT_LENGTH=-1"), "bad CONTENT_LENGTH"},
		{"plus length", params("REQUEST_METHOD=GET", "CONTENT_LENGTH=+1"), "bad CONTENT_LENGTH"},
		{"text length", params("REQUEST_METHOD=GET", "CONTENT_LENGTH=ten"), "bad CONTENT_LENGTH"},
		{"relative URI", params("REQUEST_METHOD=GET", "REQUEST_URI=x/y"), "bad REQUEST_URI"},
		{"bad escape", params("REQUEST_METHOD=GET", "REQUEST_URI=/%zz"), "bad REQUEST_URI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRequest(tt.params, nil, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "gateway: ") {
				t.Fatalf("err = %v, want one starting gateway: and naming %s", err, tt.wantErr)
			}
		})
	}
}

func TestHeaderName(t *testing.T) {
	tests := []struct{ cgi, want string }{
		{"HTTP_USER_AGENT", "User-Agent"},
		{"HTTP_X_FORWARDED_FOR", "X-Forwarded-For"},
		{"HTTP_X_SOME_NEW_HEADER", "X-Some-New-Header"},
		{"HTTP_WWW_AUTHENTICATE", "Www-Authenticate"},
		{"HTTP_A", "A"},
	}
	for _, tt := range tests {
		t.Run(tt.cgi, func(t *testing.T) {
			if got := headerName(tt.cgi); got != tt.want {
				t.Errorf("headerName(%q) = %q, want %q", tt.cgi, got, tt.want)
			}
			if got := http.CanonicalHeaderKey(strings.ReplaceAll(strings.TrimPrefix(tt.cgi, "HTTP_"), "_", "-")); got != tt.want {
				t.Errorf("net/http canonical form %q differs from %q", got, tt.want)
			}
		})
	}
}

func TestContentHeadersFromContentVariables(t *testing.T) {
	r, err := NewRequest(params("REQUEST_METHOD=POST", "CONTENT_TYPE=a/b", "CONTENT_LENGTH=0",
		"HTTP_CONTENT_TYPE=c/d", "HTTP_CONTENT_LENGTH=99"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Header["Content-Type"]; len(got) != 1 || got[0] != "a/b" {
		t.Errorf("Content-Type = %q, want only CONTENT_TYPE's a/b", got)
	}
	if got := r.Header["Content-Length"]; len(got) != 1 || got[0] != "0" {
		t.Errorf("Content-Length = %q, want only CONTENT_LENGTH's 0", got)
	}
}

func TestRepeatedHeader(t *testing.T) {
	many := []string{"HTTP_X_1=a", "HTTP_X_2=b", "HTTP_X_3=c", "HTTP_X_4=d", "HTTP_X_5=e", "HTTP_X_6=f", "HTTP_X_7=g", "HTTP_X_8=h"}
	tests := []struct {
		name string
		vars []string
		want map[string]string // header: values joined with ","
	}{
		{"one name twice", []string{"HTTP_X_A=1", "HTTP_X_B=2", "HTTP_X_A=3"}, map[string]string{"X-A": "1,3", "X-B": "2"}},
		{"three times, in two spellings", []string{"HTTP_X_A=1", "HTTP_X_a=2", "HTTP_X_B=b", "HTTP_X_A=3"},
			map[string]string{"X-A": "1,2,3", "X-B": "b"}},
		{"among more than a small map holds", append(append([]string{"HTTP_X_A=1"}, many...), "HTTP_X_A=2"),
			map[string]string{"X-A": "1,2", "X-1": "a", "X-8": "h"}},
		{"with the body's own headers", []string{"CONTENT_TYPE=text/plain", "HTTP_X_A=1", "HTTP_X_A=2", "CONTENT_LENGTH=0"},
			map[string]string{"X-A": "1,2", "Content-Type": "text/plain", "Content-Length": "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRequest(params(append([]string{"REQUEST_METHOD=GET"}, tt.vars...)...), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				if got := strings.Join(r.Header[name], ","); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			// Appending to one header's values must not overwrite another's.
			r.Header["X-A"] = append(r.Header["X-A"], "appended")
			for name, want := range tt.want {
				if name != "X-A" && strings.Join(r.Header[name], ",") != want {
					t.Errorf("after appending to X-A, %s = %q, want %q", name, r.Header[name], want)
				}
			}
		})
	}
}

func TestWithScriptName(t *testing.T) {
	r, err := NewRequest(params("REQUEST_METHOD=GET", "SCRIPT_NAME=/a"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r2 := request.WithScriptName(r, "/b/")
	if request.ScriptName(r2) != "/b" || request.ScriptName(r) != "/a" {
		t.Errorf("ScriptName after WithScriptName = %q (original %q), want /b (/a)", request.ScriptName(r2), request.ScriptName(r))
	}
	plain, _ := http.NewRequest("GET", "/", nil)
	if request.ScriptName(plain) != "" {
		t.Errorf("ScriptName of a plain request = %q, want empty", request.ScriptName(plain))
	}
}

func BenchmarkNewRequest(b *testing.B) {
	ps := params(
		"REQUEST_METHOD=GET", "SERVER_PROTOCOL=HTTP/1.1", "REQUEST_URI=/hello?name=x",
		"QUERY_STRING=name=x", "SCRIPT_NAME=", "PATH_INFO=/hello", "REMOTE_ADDR=127.0.0.1",
		"REMOTE_PORT=40000", "SERVER_NAME=localhost", "SERVER_PORT=80", "HTTP_HOST=localhost",
		"HTTP_USER_AGENT=bench", "HTTP_ACCEPT=*/*", "HTTP_ACCEPT_ENCODING=gzip",
	)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewRequest(ps, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestClientCertificate: over HTTPS, SSL_CLIENT_CERT (PEM from Apache,
// URL-encoded PEM from nginx) and SSL_PROTOCOL become r.TLS; a certificate
// that cannot be read is an error, never a request without one.
func TestClientCertificate(t *testing.T) {
	_, leaf := testcert.ClientPair(t, "client.example.org")
	pemCert := string(leaf.CertPEM())
	tests := []struct {
		name    string
		vars    []string
		wantTLS bool
		wantCN  string
		version uint16
		wantErr string
	}{
		{"Apache's PEM", []string{"HTTPS=on", "SSL_CLIENT_CERT=" + pemCert, "SSL_PROTOCOL=TLSv1.3"}, true, "client.example.org", tls.VersionTLS13, ""},
		{"nginx's escaped PEM", []string{"HTTPS=on", "SSL_CLIENT_CERT=" + url.PathEscape(pemCert), "SSL_PROTOCOL=TLSv1.2"}, true, "client.example.org", tls.VersionTLS12, ""},
		{"no certificate", []string{"HTTPS=on", "SSL_PROTOCOL=TLSv1.3"}, true, "", tls.VersionTLS13, ""},
		{"an empty one, as nginx sends without a certificate", []string{"HTTPS=on", "SSL_CLIENT_CERT="}, true, "", 0, ""},
		{"not over HTTPS", []string{"SSL_CLIENT_CERT=garbage"}, false, "", 0, ""},
		{"not PEM", []string{"HTTPS=on", "SSL_CLIENT_CERT=garbage"}, false, "", 0, "gateway: SSL_CLIENT_CERT of 7 bytes holds no PEM certificate"},
		{"bad escapes", []string{"HTTPS=on", "SSL_CLIENT_CERT=-----BEGIN%zz"}, false, "", 0, "gateway: SSL_CLIENT_CERT is neither PEM nor URL-encoded PEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRequest(params(append([]string{"REQUEST_METHOD=GET"}, tt.vars...)...), nil, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (r.TLS != nil) != tt.wantTLS {
				t.Fatalf("r.TLS = %+v, want TLS %v", r.TLS, tt.wantTLS)
			}
			if !tt.wantTLS {
				return
			}
			cn := ""
			if len(r.TLS.PeerCertificates) > 0 {
				cn = r.TLS.PeerCertificates[0].Subject.CommonName
			}
			if cn != tt.wantCN || r.TLS.Version != tt.version || !r.TLS.HandshakeComplete {
				t.Errorf("certificate %q, version %#x, handshake %v; want %q, %#x, true", cn, r.TLS.Version, r.TLS.HandshakeComplete, tt.wantCN, tt.version)
			}
		})
	}
}

// TestCherokeeDecodedRequestURI pins issue 13: Cherokee sends REQUEST_URI
// (and SCRIPT_URL) decoded, next to PATH_INFO and SCRIPT_NAME that say the
// path. A path holding %25 was a 400, and RequestURI held raw spaces.
func TestCherokeeDecodedRequestURI(t *testing.T) {
	tests := []struct {
		name, clientPath, decoded, wantURI string
	}{
		{"percent", "/app/100%25/x", "/app/100%/x", "/app/100%25/x?q=a+b"},
		{"space", "/app/a%20b", "/app/a b", "/app/a%20b?q=a+b"},
		{"percent before hex digits", "/app/a%2541", "/app/a%41", "/app/a%2541?q=a+b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pathInfo := strings.TrimPrefix(tt.decoded, "/app")
			// What handler_cgi_base.c sets for a FastCGI or SCGI handler
			// on the directory /app.
			r, err := NewRequest(params("REQUEST_METHOD=GET", "REQUEST_URI="+tt.decoded+"?q=a+b", "QUERY_STRING=q=a+b",
				"SCRIPT_NAME=/app", "SCRIPT_URL="+tt.decoded, "PATH_INFO="+pathInfo, "HTTPS=off", "HTTP_HOST=example.org"), nil, nil)
			if err != nil {
				t.Fatalf("client path %s: %v", tt.clientPath, err)
			}
			if r.URL.Path != pathInfo || request.ScriptName(r) != "/app" || r.RequestURI != tt.wantURI {
				t.Errorf("path %q script %q RequestURI %q, want %q /app %q", r.URL.Path, request.ScriptName(r), r.RequestURI, pathInfo, tt.wantURI)
			}
		})
	}
}

// TestH2OWholePathInfo pins issue 13: h2o 2.2's fastcgi.connect sends an empty
// SCRIPT_NAME and the whole path, decoded, as PATH_INFO; the configuration appgen writes
// adds SCRIPT_NAME with the mount point through setenv, which h2o sends after its own. The
// app must see the mount point, the path below it, and the client's URI as sent.
func TestH2OWholePathInfo(t *testing.T) {
	tests := []struct {
		name, uri, pathInfo, query, wantPath string
	}{
		// The variables as h2o 2.2.5 sent them (docs/variables.md).
		{"non-ASCII", "/app/deep/caf%C3%A9/x?q=%C3%A9", "/app/deep/café/x", "q=%C3%A9", "/deep/café/x"},
		{"escaped percent and space", "/app/caf%C3%A9/100%25/a%20b?q=a+b&r=%2F", "/app/café/100%/a b", "q=a+b&r=%2F", "/café/100%/a b"},
		{"the mount point's root", "/app/", "/app/", "", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRequest(params("SCRIPT_NAME=", "PATH_INFO="+tt.pathInfo, "QUERY_STRING="+tt.query,
				"REMOTE_ADDR=127.0.0.1", "REMOTE_PORT=4711", "SCRIPT_NAME=/app", "REQUEST_METHOD=GET", "HTTP_HOST=example.org",
				"REQUEST_URI="+tt.uri, "SERVER_NAME=default", "SERVER_PROTOCOL=HTTP/1.1"), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.URL.Path != tt.wantPath || request.ScriptName(r) != "/app" || r.RequestURI != tt.uri {
				t.Errorf("path %q script %q RequestURI %q, want %q /app %q", r.URL.Path, request.ScriptName(r), r.RequestURI, tt.wantPath, tt.uri)
			}
		})
	}
}
