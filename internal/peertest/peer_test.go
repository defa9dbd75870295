package peertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appgen/appgen/deploy"
	"github.com/appgen/appgen/runtime/ajp"
	"github.com/appgen/appgen/runtime/fastcgi"
	"github.com/appgen/appgen/runtime/scgi"
	"github.com/appgen/appgen/runtime/testsupport/testcert"
	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// prefix is where every peer mounts the application, so each test also checks the script name.
const prefix = "/app"

// bodySize is the POST body every peer must carry whole (issue 3: a 10 MB body).
const bodySize = 10_000_000

// ajpSecret is the shared secret of the mod_proxy_ajp peers.
const ajpSecret = "peertest-secret"

// testLogWriter sends a server's ErrorLog to the test log.
type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Logf("backend: %s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

// countingListener counts the connections the backend accepted, to tell a kept-alive upstream
// connection from one per request.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

type backendServer interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
	Close() error
}

// startBackend serves Handler (Echo, mostly) with proto ("fcgi", "scgi", "ajp") on a loopback port until the
// test ends; secret applies to AJP; force sets ForceScriptName to the mount, as a project's
// FORCE_SCRIPT_NAME setting would.
func startBackend(t *testing.T, proto, secret string, force bool) (port int, accepted *atomic.Int64) {
	t.Helper()
	var fsn *string
	if force {
		mount := prefix
		fsn = &mount
	}
	return serveBackend(t, proto, http.HandlerFunc(Handler), secret, fsn)
}

// serveBackend serves h with proto on a loopback port until the test ends, and counts the
// connections it accepts.
func serveBackend(t *testing.T, proto string, h http.Handler, secret string, fsn *string) (port int, accepted *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: l}
	logger := log.New(testLogWriter{t}, "", 0)
	var srv backendServer
	switch proto {
	case "fcgi":
		srv = &fastcgi.Server{Handler: h, ErrorLog: logger, ForceScriptName: fsn}
	case "scgi":
		srv = &scgi.Server{Handler: h, ErrorLog: logger, ForceScriptName: fsn}
	case "ajp":
		srv = &ajp.Server{Handler: h, ErrorLog: logger, Secret: secret, ForceScriptName: fsn}
	default:
		t.Fatalf("unknown backend protocol %q", proto)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(cl) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("%s backend: Shutdown: %v", proto, err)
			srv.Close()
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("%s backend: Serve returned %v, want http.ErrServerClosed", proto, err)
		}
	})
	return l.Addr().(*net.TCPAddr).Port, &cl.n
}

// peer is one web server configuration in front of a backend.
type peer struct {
	name    string
	program webserver.Program
	proto   string // backend protocol; "fcgid" for the spawned application
	// site is the site configuration for the instance directory, the web server's port and
	// the backend's port (or, for mod_fcgid, 0 and the launcher's path).
	site func(dir string, webPort, backendPort int, launcher string) (string, error)
	// keepConn says the web server keeps backend connections across requests.
	keepConn bool
	// originalURI says r.RequestURI is the client's URI (FastCGI and SCGI send REQUEST_URI;
	// AJP has only the mapped path).
	originalURI bool
	// force sets the backend's ForceScriptName to the mount, as a project's
	// FORCE_SCRIPT_NAME setting would: for AJP, which carries no script name (deploy's
	// restart script and unit set APPGEN_FORCE_SCRIPT_NAME for it).
	force bool
}

// rendered is the site `appgen config TARGET` writes for protocol, mounted at prefix and
// listening on 127.0.0.1:webPort, in front of the backend on 127.0.0.1:backendPort or, for
// apache-fcgid, the launcher it spawns: the peers are what users run. The project
// directory is the instance's: its document root and static directory do not exist, so
// every request under prefix reaches the app. What a test adds goes around the site, at
// the level the harness includes it (nginx: http{}; Apache: the main server): bodyLimits
// for the 10 MB POST, and extra.
func rendered(target, protocol string, extra ...string) func(string, int, int, string) (string, error) {
	return func(dir string, web, backend int, launcher string) (string, error) {
		o := siteOptions(target, protocol, dir, web, backend)
		if launcher != "" {
			o.Launcher, o.Backends = launcher, nil
		}
		text, err := deploy.Render(o)
		return bodyLimits[target] + strings.Join(extra, "") + string(text), err
	}
}

// siteOptions are the inputs of `appgen config TARGET --protocol PROTOCOL --prefix /app
// --listen 127.0.0.1:WEB --backend 127.0.0.1:BACKEND --dir DIR` (with --secret for AJP).
func siteOptions(target, protocol, dir string, web, backend int) deploy.Options {
	o := deploy.Options{
		Target: target, Protocol: protocol, Dir: dir, Prefix: prefix, Listen: "127.0.0.1:" + strconv.Itoa(web),
		Backends: []deploy.Backend{deploy.TCP("127.0.0.1", backend)},
	}
	if protocol == "ajp" {
		o.Secret = ajpSecret
	}
	return o
}

// bodyLimits let a 10 MB body through: nginx refuses bodies over 1 MB by default.
// (mod_fcgid's 128 KiB default is raised by the apache-fcgid site itself.)
var bodyLimits = map[string]string{"nginx": "client_max_body_size 20m;\n"}

// withoutKeepConn is an nginx FastCGI site with its fastcgi_keep_conn line taken out: a
// connection per request, what nginx does unless told otherwise. appgen never writes it;
// the peer is kept because the runtime must close the connection when the web server asks
// (FCGI_KEEP_CONN unset), and a site without the line is an error, not a silent second
// keep-conn peer.
func withoutKeepConn(site func(string, int, int, string) (string, error)) func(string, int, int, string) (string, error) {
	return func(dir string, web, backend int, launcher string) (string, error) {
		text, err := site(dir, web, backend, launcher)
		if err != nil {
			return "", err
		}
		return cut(text, "\n        fastcgi_keep_conn on;", "")
	}
}

// cut replaces the one occurrence of old in site with new, and is an error when site does
// not hold old: an edit that silently did nothing would test another configuration.
func cut(site, old, new string) (string, error) {
	if strings.Count(site, old) != 1 {
		return "", fmt.Errorf("the rendered site holds %q %d times, want once:\n%s", strings.TrimSpace(old), strings.Count(site, old), site)
	}
	return strings.Replace(site, old, new, 1), nil
}

// mod_fcgid's per-class process limit and I/O timeout, raised for the 10 MB upload's
// round trip through a spawned process.
const fcgidTuning = "FcgidIOTimeout 60\nFcgidMaxProcessesPerClass 2\n"

var peers = []peer{
	{name: "nginx fastcgi_pass keep_conn", program: webserver.Nginx, proto: "fcgi", site: rendered("nginx", "fcgi"), keepConn: true, originalURI: true},
	{name: "nginx fastcgi_pass", program: webserver.Nginx, proto: "fcgi", site: withoutKeepConn(rendered("nginx", "fcgi")), originalURI: true},
	{name: "nginx scgi_pass", program: webserver.Nginx, proto: "scgi", site: rendered("nginx", "scgi"), originalURI: true},
	{name: "apache mod_proxy_fcgi", program: webserver.Apache, proto: "fcgi", site: rendered("apache", "fcgi"), keepConn: true, originalURI: true},
	{name: "apache mod_proxy_scgi", program: webserver.Apache, proto: "scgi", site: rendered("apache", "scgi"), originalURI: true},
	{name: "apache mod_proxy_ajp secret", program: webserver.Apache, proto: "ajp", site: rendered("apache", "ajp"), keepConn: true, force: true},
	{name: "apache mod_fcgid", program: webserver.Apache, proto: "fcgid", site: rendered("apache-fcgid", "fcgi", fcgidTuning), originalURI: true},
}

// echoapp builds testdata/echoapp once for the mod_fcgid peer.
var (
	echoOnce sync.Once
	echoPath string
	echoErr  error
)

func buildEcho(t *testing.T) string {
	t.Helper()
	echoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "peertest-echoapp-")
		if err != nil {
			echoErr = err
			return
		}
		// 0755 all the way: Apache's mod_fcgid children must reach the binary.
		if err := os.Chmod(dir, 0o755); err != nil {
			echoErr = err
			return
		}
		echoPath = filepath.Join(dir, "echoapp")
		out, err := exec.Command("go", "build", "-o", echoPath, "./testdata/echoapp").CombinedOutput()
		if err != nil {
			echoErr = fmt.Errorf("building testdata/echoapp: %v\n%s", err, out)
		}
	})
	if echoErr != nil {
		t.Fatal(echoErr)
	}
	return echoPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if echoPath != "" {
		os.RemoveAll(filepath.Dir(echoPath))
	}
	os.Exit(code)
}

// setUp starts the peer's backend and web server and returns the web server and a counter of
// backend connections (nil for mod_fcgid).
func setUp(t *testing.T, p peer) (*webserver.Instance, *atomic.Int64) {
	t.Helper()
	webserver.Require(t, p.program)
	dir := webserver.TempDir(t)
	web := webserver.FreePort(t)
	var backend int
	var accepted *atomic.Int64
	launcher := ""
	if p.proto == "fcgid" {
		// The launcher is what `appgen config fcgi` writes for a shared host: a script that
		// execs the project binary's runfcgi with no address, so it serves on the socket
		// on fd 0.
		launcher = filepath.Join(dir, "mysite.fcgi")
		text, err := deploy.Render(deploy.Options{Target: "fcgi", Dir: dir, Binary: buildEcho(t), Launcher: launcher})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(launcher, text, 0o755); err != nil {
			t.Fatal(err)
		}
	} else {
		backend, accepted = startBackend(t, p.proto, ajpSecret, p.force)
	}
	site, err := p.site(dir, web, backend, launcher)
	if err != nil {
		t.Fatal(err)
	}
	inst := webserver.Start(t, webserver.Config{Program: p.program, Dir: dir, Port: web, Site: site})
	return inst, accepted
}

// fetch makes one request and decodes Echo's report; it fails the test on a status other than
// 200.
func fetch(t *testing.T, client *http.Client, method, url string, body []byte, header http.Header) (Received, bool) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	reused := false
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
	}))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: status %d, want 200; body:\n%s", method, url, resp.StatusCode, data)
	}
	var rec Received
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatalf("%s %s: the answer is not Echo's JSON: %v\n%s", method, url, err, data)
	}
	return rec, reused
}

func TestPeers(t *testing.T) {
	upload := make([]byte, bodySize)
	if _, err := rand.Read(upload); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(upload)
	uploadSum := hex.EncodeToString(sum[:])

	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) {
			inst, accepted := setUp(t, p)
			tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 30 * time.Second}

			// The first request shows whether the peer works at all; without it the others
			// would each wait out the client timeout.
			if !t.Run("GET with query", func(t *testing.T) {
				rec, _ := fetch(t, client, "GET", inst.URL+prefix+"/hello/world?x=1&y=%C3%A9&z=a+b", nil, http.Header{"X-Peer-Test": {"abc"}})
				want := Received{Method: "GET", Path: "/hello/world", ScriptName: prefix, Query: "x=1&y=%C3%A9&z=a+b", BodyLen: 0}
				check(t, rec, want)
				if p.originalURI && rec.RequestURI != prefix+"/hello/world?x=1&y=%C3%A9&z=a+b" {
					t.Errorf("RequestURI %q, want the client's %q", rec.RequestURI, prefix+"/hello/world?x=1&y=%C3%A9&z=a+b")
				}
				if got := rec.HeaderValue("X-Peer-Test"); got != "abc" {
					t.Errorf("header X-Peer-Test %q, want %q", got, "abc")
				}
				if host := strings.TrimPrefix(inst.URL, "http://"); rec.Host != host {
					t.Errorf("Host %q, want %q", rec.Host, host)
				}
			}) {
				t.FailNow()
			}
			t.Run("POST 10 MB", func(t *testing.T) {
				rec, _ := fetch(t, client, "POST", inst.URL+prefix+"/upload", upload, http.Header{"Content-Type": {"application/octet-stream"}})
				want := Received{Method: "POST", Path: "/upload", ScriptName: prefix, BodyLen: bodySize, BodySHA256: uploadSum}
				check(t, rec, want)
				if rec.BodyErr != "" {
					t.Errorf("the handler's read of the body failed: %s", rec.BodyErr)
				}
				if got := rec.HeaderValue("Content-Type"); got != "application/octet-stream" {
					t.Errorf("Content-Type %q, want application/octet-stream", got)
				}
			})
			t.Run("non-ASCII path", func(t *testing.T) {
				rec, _ := fetch(t, client, "GET", inst.URL+prefix+"/caf%C3%A9/%E6%97%A5%E6%9C%AC", nil, nil)
				check(t, rec, Received{Method: "GET", Path: "/café/日本", ScriptName: prefix})
			})
			t.Run("keep-alive", func(t *testing.T) {
				const n = 20
				var before int64
				if accepted != nil {
					before = accepted.Load()
				}
				reusedAll := true
				for i := range n {
					rec, reused := fetch(t, client, "GET", fmt.Sprintf("%s%s/k/%d", inst.URL, prefix, i), nil, nil)
					check(t, rec, Received{Method: "GET", Path: fmt.Sprintf("/k/%d", i), ScriptName: prefix})
					reusedAll = reusedAll && (reused || i == 0)
				}
				if !reusedAll {
					t.Errorf("the client's connection to %s was not kept alive across %d requests", p.program, n)
				}
				if accepted == nil {
					return
				}
				conns := accepted.Load() - before
				t.Logf("%d requests over %d backend connections", n, conns)
				if p.keepConn && conns >= n {
					t.Errorf("%d backend connections for %d requests: the upstream connection was not kept", conns, n)
				}
				if !p.keepConn && conns != n {
					t.Errorf("%d backend connections for %d requests, want one per request", conns, n)
				}
			})
		})
	}
}

// check compares the fields of rec that want sets (BodySHA256 only when set).
func check(t *testing.T, rec, want Received) {
	t.Helper()
	if rec.Method != want.Method || rec.Path != want.Path || rec.ScriptName != want.ScriptName ||
		rec.Query != want.Query || rec.BodyLen != want.BodyLen || (want.BodySHA256 != "" && rec.BodySHA256 != want.BodySHA256) {
		t.Errorf("the handler received method %q path %q script name %q query %q body %d bytes (sha256 %.12s…);\nwant %q %q %q %q %d bytes (sha256 %.12s…)",
			rec.Method, rec.Path, rec.ScriptName, rec.Query, rec.BodyLen, rec.BodySHA256,
			want.Method, want.Path, want.ScriptName, want.Query, want.BodyLen, want.BodySHA256)
	}
}

// TestClientCertificate: the web server terminates TLS, asking for a client certificate, and
// forwards the request; the handler finds the certificate the web server checked in r.TLS,
// with the protocol version, and a client without one gets r.TLS all the same. nginx passes
// the certificate URL-encoded in a fastcgi_param, Apache's mod_proxy_fcgi as mod_ssl's
// exported PEM, mod_proxy_ajp in its ssl_cert attribute.
func TestClientCertificate(t *testing.T) {
	ca, err := testcert.NewCA("peertest CA")
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.Sign("127.0.0.1", net.IPv4(127, 0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.Sign("peertest-client")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)

	// The sites are `appgen config`'s, which write no TLS: the server terminates it with the
	// lines docs/fastcgi.md gives, added around the site where the server allows them and,
	// for nginx's listen and its two SSL_ parameters, into it (HTTPS is among the
	// parameters nginx's site already sends, as "$https if_not_empty").
	// Apache: client keep-alive off, so that no TLS connection is left open for its stop to
	// wait on (one early run waited out the harness's 15 s).
	const apacheTLS = "KeepAlive Off\nSSLEngine on\nSSLCertificateFile %[1]s/server.pem\nSSLCertificateKeyFile %[1]s/server.key\n" +
		"SSLCACertificateFile %[1]s/ca.pem\nSSLVerifyClient optional\nSSLVerifyDepth 1\n"
	// nginx before 1.23.4 leaves TLS 1.3 out of its default ssl_protocols.
	const nginxTLS = "ssl_protocols TLSv1.2 TLSv1.3;\n" +
		"ssl_certificate %[1]s/server.pem;\nssl_certificate_key %[1]s/server.key;\n" +
		"ssl_client_certificate %[1]s/ca.pem;\nssl_verify_client optional;\nssl_verify_depth 1;\n"
	peers := []struct {
		name    string
		program webserver.Program
		proto   string
		site    func(dir string, web, backend int) (string, error)
	}{
		{"nginx fastcgi_pass", webserver.Nginx, "fcgi", func(dir string, web, backend int) (string, error) {
			site, err := rendered("nginx", "fcgi", fmt.Sprintf(nginxTLS, dir))(dir, web, backend, "")
			if err != nil {
				return "", err
			}
			listen := fmt.Sprintf("listen \"127.0.0.1:%d\"", web)
			if site, err = cut(site, listen+";", listen+" ssl;"); err != nil {
				return "", err
			}
			const keep = "fastcgi_keep_conn on;"
			return cut(site, keep, keep+"\n        fastcgi_param SSL_CLIENT_CERT $ssl_client_escaped_cert;\n        fastcgi_param SSL_PROTOCOL $ssl_protocol;")
		}},
		{"apache mod_proxy_fcgi", webserver.Apache, "fcgi", func(dir string, web, backend int) (string, error) {
			return rendered("apache", "fcgi", fmt.Sprintf(apacheTLS, dir), "SSLOptions +StdEnvVars +ExportCertData\n")(dir, web, backend, "")
		}},
		{"apache mod_proxy_ajp", webserver.Apache, "ajp", func(dir string, web, backend int) (string, error) {
			return rendered("apache", "ajp", fmt.Sprintf(apacheTLS, dir))(dir, web, backend, "")
		}},
	}
	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) {
			webserver.Require(t, p.program)
			dir := webserver.TempDir(t)
			files := map[string][]byte{"ca.pem": ca.CertPEM(), "server.pem": server.CertPEM(), "server.key": server.KeyPEM()}
			for name, b := range files {
				// The servers read them as the user they start as; 0600 suffices for the key.
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			port, _ := startBackend(t, p.proto, ajpSecret, true)
			web := webserver.FreePort(t)
			var modules []string
			if p.program == webserver.Apache {
				modules = append(slices.Clone(webserver.DefaultApacheModules), "ssl", "socache_shmcb")
			}
			site, err := p.site(dir, web, port)
			if err != nil {
				t.Fatal(err)
			}
			inst := webserver.Start(t, webserver.Config{Program: p.program, Dir: dir, Port: web, Site: site, Modules: modules})
			url := strings.Replace(inst.URL, "http://", "https://", 1) + prefix + "/cert"
			for _, tt := range []struct {
				name  string
				certs []tls.Certificate
				want  string // the handler's ClientCert
			}{
				{"with a client certificate", []tls.Certificate{client.TLS()}, "peertest-client"},
				{"without one", nil, ""},
			} {
				t.Run(tt.name, func(t *testing.T) {
					c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
						TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: tt.certs},
					}}
					defer c.CloseIdleConnections()
					rec, _ := fetch(t, c, "GET", url, nil, nil)
					if !rec.HTTPS || rec.ClientCert != tt.want || rec.TLSVersion != "TLS 1.3" {
						t.Errorf("handler saw HTTPS %v, client certificate %q, TLS version %q; want true, %q, TLS 1.3",
							rec.HTTPS, rec.ClientCert, rec.TLSVersion, tt.want)
					}
				})
			}
		})
	}
}

// TestAJPWrongSecret: mod_proxy_ajp with a secret the backend does not know gets 403, and the
// handler never runs.
func TestAJPWrongSecret(t *testing.T) {
	webserver.Require(t, webserver.Apache)
	port, _ := startBackend(t, "ajp", "the-right-one", true)
	dir := webserver.TempDir(t)
	web := webserver.FreePort(t)
	o := siteOptions("apache", "ajp", dir, web, port)
	o.Secret = "a-wrong-one"
	site, err := deploy.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	inst := webserver.Start(t, webserver.Config{Program: webserver.Apache, Dir: dir, Port: web, Site: string(site)})
	resp, err := http.Get(inst.URL + prefix + "/secret")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want 403; body:\n%s", resp.StatusCode, body)
	}
	if bytes.Contains(body, []byte(`"script_name"`)) {
		t.Errorf("the handler answered a request with the wrong secret:\n%s", body)
	}
}
