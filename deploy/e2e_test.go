package deploy_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/appgen/appgen/deploy"
	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// The end-to-end tests put `appgen config` output in front of a real app in throwaway
// nginx, Apache and lighttpd instances and check what the app receives. The app is
// testdata/app: the real runfcgi (and so the real FastCGI, SCGI and AJP servers and the
// gateway) with a handler that reports the script name, path, query, body and its pid.

var (
	appOnce sync.Once
	appPath string
	appErr  error
)

// appBinary builds testdata/app once per test run.
func appBinary(t testing.TB) string {
	t.Helper()
	appOnce.Do(func() {
		dir, err := os.MkdirTemp("", "appgen-e2e-app-")
		if err != nil {
			appErr = err
			return
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			appErr = err
			return
		}
		appPath = filepath.Join(dir, "app")
		out, err := exec.Command("go", "build", "-o", appPath, "./testdata/app").CombinedOutput()
		if err != nil {
			appErr = fmt.Errorf("building testdata/app: %v\n%s", err, out)
		}
	})
	if appErr != nil {
		t.Fatal(appErr)
	}
	return appPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if appPath != "" {
		os.RemoveAll(filepath.Dir(appPath))
	}
	os.Exit(code)
}

// site is one throwaway deployment: a project directory with a binary, static files and a
// document root, served by one web server.
type site struct {
	dir, docroot, static string
	binary               string
}

func newSite(t testing.TB) *site {
	t.Helper()
	dir := webserver.TempDir(t)
	s := &site{
		dir:     dir,
		docroot: filepath.Join(dir, "htdocs"),
		static:  filepath.Join(dir, "static"),
		binary:  filepath.Join(dir, "mysite"),
	}
	for _, d := range []string{s.docroot, s.static} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(s.docroot, "robots.txt"), "User-agent: *\n", 0o644)
	writeFile(t, filepath.Join(s.static, "app.css"), "body { color: #123; }\n", 0o644)
	data, err := os.ReadFile(appBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, s.binary, string(data), 0o755)
	return s
}

// serverDir makes the web server instance's directory inside the site.
func (s *site) serverDir(t testing.TB) string {
	t.Helper()
	d := filepath.Join(s.dir, "server")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func writeFile(t testing.TB, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func (s *site) options(target string, port int) deploy.Options {
	return deploy.Options{
		Target:       target,
		Name:         "mysite",
		Dir:          s.dir,
		DocumentRoot: s.docroot,
		StaticRoot:   s.static,
		Listen:       "127.0.0.1:" + strconv.Itoa(port),
		Settings:     "e2e",
		Version:      "e2e",
	}
}

// runApp starts the app on b with runfcgi in the foreground, as the systemd unit does, and
// waits until it accepts connections.
func (s *site) runApp(t testing.TB, protocol string, b deploy.Backend, env ...string) {
	t.Helper()
	s.run(t, "e2e", protocol, b, env...)
}

// runAppSettings runs a generated project's binary with a settings profile.
func (s *site) runAppSettings(t testing.TB, settings string, b deploy.Backend) {
	t.Helper()
	s.run(t, settings, "fcgi", b)
}

func (s *site) run(t testing.TB, settings, protocol string, b deploy.Backend, env ...string) {
	t.Helper()
	args := []string{"runfcgi", "protocol=" + protocol, "method=threaded", "daemonize=false"}
	if b.IsUnix() {
		// The web server's workers may run as another user (nginx's as nobody), in no group
		// of the test's: the socket is opened to every user (runfcgi's default is 0660).
		args = append(args, "socket="+b.Address, "socket_mode=0666")
	} else {
		args = append(args, "host="+b.Host(), "port="+strconv.Itoa(b.Port()))
	}
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "secret="); ok {
			args = append(args, "secret="+v)
		}
		if v, ok := strings.CutPrefix(e, "runfcgi:"); ok { // another runfcgi key=value
			args = append(args, v)
		}
	}
	cmd := exec.Command(s.binary, args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "APPGEN_SETTINGS="+settings)
	cmd.Env = append(cmd.Env, env...)
	out := &strings.Builder{}
	var mu sync.Mutex
	cmd.Stdout = lockedWriter{&mu, out}
	cmd.Stderr = lockedWriter{&mu, out}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		stop(cmd, done)
		if t.Failed() {
			mu.Lock()
			t.Logf("app on %s said:\n%s", b, out.String())
			mu.Unlock()
		}
	})
	for i := 0; ; i++ {
		c, err := net.Dial(b.Network, b.Address)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			t.Fatalf("app on %s exited: %s", b, out.String())
		default:
		}
		if i == 500 {
			t.Fatalf("app on %s does not accept connections: %v", b, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends the app SIGTERM, as systemd does, and kills it if it has not exited (done
// closed) within 10 seconds.
func stop(cmd *exec.Cmd, done <-chan struct{}) {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// reply is a response with the app's report parsed.
type reply struct {
	status int
	body   string
	app    map[string]string
}

func do(t *testing.T, method, rawURL, host, body string) reply {
	t.Helper()
	if body == "" {
		return doReader(t, method, rawURL, host, nil)
	}
	return doReader(t, method, rawURL, host, strings.NewReader(body))
}

// doReader is do with a body reader: one whose length the client cannot know goes out
// chunked.
func doReader(t *testing.T, method, rawURL, host string, body io.Reader) reply {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	client := &http.Client{
		Timeout: 20 * time.Second,
		// Redirects are checked, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := reply{status: resp.StatusCode, body: string(data), app: map[string]string{}}
	sc := bufio.NewScanner(strings.NewReader(r.body))
	sc.Buffer(nil, len(r.body)+1) // the app's "body=" line may be as long as a 10 MB upload
	for sc.Scan() {
		if kv, ok := strings.CutPrefix(sc.Text(), "app "); ok {
			k, v, _ := strings.Cut(kv, "=")
			r.app[k] = v
		}
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		r.app["location"] = loc
	}
	return r
}

// matrix is the request matrix every deployment must pass.
type matrix struct {
	base   string // http://127.0.0.1:PORT
	host   string // Host header, "" for the default
	prefix string
	// scriptName is what the app must see as its script name (normally prefix).
	scriptName string
	// docrootFiles: files that exist under the document root are served as they are.
	docrootFiles bool
	staticURL    string
	// oneBackend: the target refuses several backends (h2o 2.2 cannot balance FastCGI),
	// and testDeployments checks that refusal instead of balancing.
	oneBackend bool
}

func (m matrix) run(t *testing.T) {
	t.Helper()
	t.Run("root", func(t *testing.T) {
		r := do(t, "GET", m.base+m.prefix+"/", m.host, "")
		m.wantApp(t, r, "/", "")
	})
	t.Run("deep path, query, non-ASCII", func(t *testing.T) {
		r := do(t, "GET", m.base+m.prefix+"/deep/caf%C3%A9/na%C3%AFve/x?q=%C3%A9t%C3%A9&a=1", m.host, "")
		m.wantApp(t, r, "/deep/café/naïve/x", "q=%C3%A9t%C3%A9&a=1")
	})
	t.Run("POST body", func(t *testing.T) {
		body := "name=caf%C3%A9&text=" + strings.Repeat("x", 3000)
		r := do(t, "POST", m.base+m.prefix+"/submit/", m.host, body)
		m.wantApp(t, r, "/submit/", "")
		if r.app["method"] != "POST" || r.app["body"] != body {
			t.Errorf("app saw %s with body of %d bytes, want POST with the %d bytes sent", r.app["method"], len(r.app["body"]), len(body))
		}
	})
	if m.staticURL != "" { // "": the server serves no files (HAProxy)
		t.Run("static file", func(t *testing.T) {
			r := do(t, "GET", m.base+m.staticURL+"app.css", m.host, "")
			if r.status != 200 || r.body != "body { color: #123; }\n" {
				t.Errorf("GET %sapp.css = %d %q, want the static file", m.staticURL, r.status, r.body)
			}
		})
	}
	if m.docrootFiles && m.prefix == "" {
		t.Run("document root file", func(t *testing.T) {
			r := do(t, "GET", m.base+"/robots.txt", m.host, "")
			if r.status != 200 || r.body != "User-agent: *\n" {
				t.Errorf("GET /robots.txt = %d %q, want the file from the document root", r.status, r.body)
			}
		})
	}
	if m.prefix != "" {
		t.Run("prefix without slash", func(t *testing.T) {
			r := do(t, "GET", m.base+m.prefix, m.host, "")
			if r.status != 301 || !strings.HasSuffix(r.app["location"], m.prefix+"/") {
				t.Errorf("GET %s = %d (Location %q), want a redirect to %s/", m.prefix, r.status, r.app["location"], m.prefix)
			}
		})
	}
}

func (m matrix) wantApp(t *testing.T, r reply, path, query string) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d, want 200; body:\n%s", r.status, r.body)
	}
	if r.app["path"] != path || r.app["script_name"] != m.scriptName || r.app["query"] != query {
		t.Errorf("app saw script name %q, path %q, query %q; want %q, %q, %q", r.app["script_name"], r.app["path"], r.app["query"], m.scriptName, path, query)
	}
	if r.app["settings"] != "e2e" {
		t.Errorf("app runs with APPGEN_SETTINGS %q, want e2e", r.app["settings"])
	}
}

// programs are the servers that load each target's output through the harness's main
// configuration (runtime/testsupport/webserver): the tables below name targets only.
var programs = map[string]webserver.Program{
	"nginx": webserver.Nginx, "apache": webserver.Apache, "apache-fcgid": webserver.Apache,
	"htaccess": webserver.Apache, "lighttpd": webserver.Lighttpd, "cherokee": webserver.Cherokee,
}

// programFor is the server that loads target's output, once the test has made sure it is
// installed (webserver.Require: a skip, or under CI=true a failure).
func programFor(t *testing.T, target string) webserver.Program {
	t.Helper()
	p, ok := programs[target]
	if !ok {
		t.Fatalf("no web server for target %q in programs", target)
	}
	webserver.Require(t, p)
	return p
}

// proxied describes a deployment where the app runs on its own (runfcgi as a daemon).
type proxied struct {
	name     string
	target   string
	protocol string
	prefix   string
	backends string // "tcp", "unix" or "two" (a balanced pair, one of each)
	secret   string
	// appScriptName is the app's ForceScriptName (AJP carries no script name).
	appScriptName string
	docrootFiles  bool
}

func TestProxiedDeployments(t *testing.T) {
	cases := []proxied{
		{name: "nginx fcgi tcp", target: "nginx", protocol: "fcgi", backends: "tcp", docrootFiles: true},
		{name: "nginx fcgi unix prefix", target: "nginx", protocol: "fcgi", backends: "unix", prefix: "/app", docrootFiles: true},
		{name: "nginx fcgi balanced", target: "nginx", protocol: "fcgi", backends: "two", docrootFiles: true},
		{name: "nginx scgi tcp", target: "nginx", protocol: "scgi", backends: "tcp", docrootFiles: true},
		{name: "nginx scgi prefix", target: "nginx", protocol: "scgi", backends: "tcp", prefix: "/app"},
		{name: "apache fcgi tcp", target: "apache", protocol: "fcgi", backends: "tcp", docrootFiles: true},
		{name: "apache fcgi unix prefix", target: "apache", protocol: "fcgi", backends: "unix", prefix: "/app", docrootFiles: true},
		{name: "apache fcgi balanced", target: "apache", protocol: "fcgi", backends: "two", docrootFiles: true},
		{name: "apache scgi tcp", target: "apache", protocol: "scgi", backends: "tcp"},
		{name: "apache scgi unix prefix", target: "apache", protocol: "scgi", backends: "unix", prefix: "/app"},
		{name: "apache scgi balanced", target: "apache", protocol: "scgi", backends: "two"},
		{name: "apache ajp secret", target: "apache", protocol: "ajp", backends: "tcp", secret: "s3cr3t"},
		{name: "apache ajp prefix", target: "apache", protocol: "ajp", backends: "tcp", prefix: "/app", appScriptName: "/app"},
		{name: "lighttpd fcgi tcp", target: "lighttpd", protocol: "fcgi", backends: "tcp", docrootFiles: true},
		{name: "lighttpd fcgi unix prefix", target: "lighttpd", protocol: "fcgi", backends: "unix", prefix: "/app", docrootFiles: true},
		{name: "lighttpd scgi balanced", target: "lighttpd", protocol: "scgi", backends: "two", docrootFiles: true},
		{name: "cherokee fcgi tcp", target: "cherokee", protocol: "fcgi", backends: "tcp", docrootFiles: true},
		{name: "cherokee fcgi unix prefix", target: "cherokee", protocol: "fcgi", backends: "unix", prefix: "/app"},
		{name: "cherokee fcgi balanced", target: "cherokee", protocol: "fcgi", backends: "two", docrootFiles: true},
		{name: "cherokee scgi tcp", target: "cherokee", protocol: "scgi", backends: "tcp", docrootFiles: true},
		{name: "cherokee scgi unix prefix", target: "cherokee", protocol: "scgi", backends: "unix", prefix: "/app"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			program := programFor(t, c.target)
			s := newSite(t)
			port := webserver.FreePort(t)
			o := s.options(c.target, port)
			o.Protocol, o.Prefix, o.Secret = c.protocol, c.prefix, c.secret
			switch c.backends {
			case "tcp":
				o.Backends = []deploy.Backend{deploy.TCP("127.0.0.1", webserver.FreePort(t))}
			case "unix":
				o.Backends = []deploy.Backend{deploy.Unix(filepath.Join(s.dir, "mysite.sock"))}
			case "two":
				o.Backends = []deploy.Backend{deploy.TCP("127.0.0.1", webserver.FreePort(t)), deploy.Unix(filepath.Join(s.dir, "mysite-2.sock"))}
			}
			var env []string
			if c.secret != "" {
				env = append(env, "secret="+c.secret)
			}
			if c.appScriptName != "" {
				env = append(env, "APP_SCRIPT_NAME="+c.appScriptName)
			}
			for _, b := range o.Backends {
				s.runApp(t, c.protocol, b, env...)
			}
			text, err := deploy.Render(o)
			if err != nil {
				t.Fatal(err)
			}
			inst := webserver.Start(t, webserver.Config{Program: program, Dir: s.serverDir(t), Port: port, Site: string(text), DocumentRoot: s.docroot})
			m := matrix{base: inst.URL, prefix: c.prefix, scriptName: c.prefix, docrootFiles: c.docrootFiles, staticURL: c.prefix + "/static/"}
			m.run(t)
			if program == webserver.Cherokee {
				cherokeeRequests(t, m, c.protocol)
			}
			if c.backends == "two" {
				// Both members of the group answer.
				pids := map[string]bool{}
				for i := 0; i < 8; i++ {
					pids[do(t, "GET", inst.URL+c.prefix+"/lb", "", "").app["pid"]] = true
				}
				if len(pids) != 2 {
					t.Errorf("8 requests reached %d app processes, want both backends (%v)", len(pids), pids)
				}
			}
		})
	}
}

// cherokeeRequests sends what Cherokee passes on differently from the other servers (issue
// 13): a chunked body, which its FastCGI handler forwards still chunk-encoded with
// CONTENT_TRANSFER_ENCODING=chunked and no CONTENT_LENGTH; a path holding %25, which it
// sends in REQUEST_URI decoded; a 10 MB body.
func cherokeeRequests(t *testing.T, m matrix, protocol string) {
	t.Helper()
	if protocol == "fcgi" {
		// Over SCGI Cherokee sends CONTENT_LENGTH=0 for a chunked body and none of it, and
		// now and then (1 run in 3 here) never answers the client at all: no test can pin
		// that; docs/servers/cherokee.md says to send Content-Length through Cherokee.
		t.Run("chunked POST", func(t *testing.T) {
			// 2 KB: larger ones, whose body Cherokee reads in several pieces, come out of
			// its FastCGI handler misframed (records whose length does not match what
			// follows); docs/servers/cherokee.md says so.
			body := "name=caf%C3%A9&text=" + strings.Repeat("y", 2000)
			// A reader of unknown length makes the client send Transfer-Encoding: chunked.
			r := doReader(t, "POST", m.base+m.prefix+"/chunked/", m.host, io.MultiReader(strings.NewReader(body)))
			m.wantApp(t, r, "/chunked/", "")
			if r.app["body"] != body {
				t.Errorf("app saw a body of %d bytes, want %d", len(r.app["body"]), len(body))
			}
		})
	}
	t.Run("path with %25", func(t *testing.T) {
		r := do(t, "GET", m.base+m.prefix+"/100%25/a%20b?q=a+b", m.host, "")
		m.wantApp(t, r, "/100%/a b", "q=a+b")
		if want := m.prefix + "/100%25/a%20b?q=a+b"; r.app["request_uri"] != want {
			t.Errorf("app saw RequestURI %q, want %q (rebuilt from Cherokee's decoded REQUEST_URI)", r.app["request_uri"], want)
		}
	})
	t.Run("10 MB POST", func(t *testing.T) {
		body := "text=" + strings.Repeat("z", 10<<20)
		r := do(t, "POST", m.base+m.prefix+"/big/", m.host, body)
		m.wantApp(t, r, "/big/", "")
		if r.app["body"] != body {
			t.Errorf("app saw a body of %d bytes, want %d", len(r.app["body"]), len(body))
		}
	})
}

// spawned describes a deployment where the web server starts the app through the launcher.
type spawned struct {
	name   string
	target string
	prefix string
}

func TestSpawnedDeployments(t *testing.T) {
	cases := []spawned{
		{name: "apache-fcgid", target: "apache-fcgid"},
		{name: "apache-fcgid prefix", target: "apache-fcgid", prefix: "/app"},
		{name: "htaccess", target: "htaccess"},
		{name: "lighttpd spawn", target: "lighttpd"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			program := programFor(t, c.target)
			s := newSite(t)
			port := webserver.FreePort(t)
			launcher := filepath.Join(s.dir, "mysite.fcgi")
			staticURL := c.prefix + "/static/"
			if c.target == "htaccess" {
				// Shared hosting: the launcher and the static files live in the web directory.
				launcher = filepath.Join(s.docroot, "mysite.fcgi")
				if err := os.Rename(s.static, filepath.Join(s.docroot, "static")); err != nil {
					t.Fatal(err)
				}
			}
			lo := s.options("fcgi", port)
			lo.Launcher = launcher
			text, err := deploy.Render(lo)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, launcher, string(text), 0o755)

			o := s.options(c.target, port)
			o.Prefix, o.Launcher = c.prefix, launcher
			if c.target == "lighttpd" {
				o.Spawn = true
				o.Backends = []deploy.Backend{deploy.Unix(filepath.Join(s.dir, "spawn.sock"))}
			}
			conf, err := deploy.Render(o)
			if err != nil {
				t.Fatal(err)
			}
			siteText := string(conf)
			if c.target == "htaccess" {
				writeFile(t, filepath.Join(s.docroot, ".htaccess"), siteText, 0o644)
				// Exactly what docs/servers/shared-hosting.md says a host must allow (issue 10:
				// with it, the old .htaccess's "Options +SymLinksIfOwnerMatch" was a 500).
				siteText = fmt.Sprintf("<Directory %s>\n    AllowOverride FileInfo Options\n</Directory>\n", s.docroot)
				// Issue 14: any *.fcgi a user uploads ran as a program; only the launcher may.
				writeFile(t, filepath.Join(s.docroot, "upload.fcgi"), "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nEXECUTED\\n'\n", 0o755)
			}
			inst := webserver.Start(t, webserver.Config{Program: program, Dir: s.serverDir(t), Port: port, Site: siteText, DocumentRoot: s.docroot})
			m := matrix{base: inst.URL, prefix: c.prefix, scriptName: c.prefix, docrootFiles: true, staticURL: staticURL}
			m.run(t)
			if c.target == "htaccess" {
				t.Run("only the launcher runs", func(t *testing.T) {
					r := do(t, "GET", inst.URL+"/upload.fcgi", "", "")
					if r.body == "EXECUTED\n" || !strings.HasPrefix(r.body, "#!/bin/sh") {
						t.Errorf("GET /upload.fcgi: status %d, body %q; want the file's text, not its output", r.status, r.body)
					}
				})
			}

			t.Run("restart after touch", func(t *testing.T) {
				before := do(t, "GET", inst.URL+c.prefix+"/", "", "").app["boot"]
				if before == "" {
					t.Fatal("no boot value in the app's reply")
				}
				// A later mtime than any the file had, whatever the file system's resolution.
				later := time.Now().Add(2 * time.Second)
				if err := os.Chtimes(launcher, later, later); err != nil {
					t.Fatal(err)
				}
				var after string
				for i := 0; i < 150 && (after == "" || after == before); i++ {
					time.Sleep(100 * time.Millisecond)
					r := do(t, "GET", inst.URL+c.prefix+"/", "", "")
					if r.status == 200 {
						after = r.app["boot"]
					}
				}
				if after == before {
					t.Fatalf("the same process image (boot %s) still serves after touching %s: the launcher did not restart it", before, launcher)
				}
			})
		})
	}
}

// TestLighttpdTwoSites concatenates two projects' lighttpd configurations, each for its own
// host name, and checks that each host reaches its own app with its own rewrites.
func TestLighttpdTwoSites(t *testing.T) {
	webserver.Require(t, webserver.Lighttpd)
	one, two := newSite(t), newSite(t)
	port := webserver.FreePort(t)
	var conf strings.Builder
	for i, s := range []*site{one, two} {
		o := s.options("lighttpd", port)
		o.ServerNames = []string{fmt.Sprintf("site%d.test", i+1)}
		if i == 1 {
			o.Prefix = "/two"
		}
		o.Backends = []deploy.Backend{deploy.TCP("127.0.0.1", webserver.FreePort(t))}
		s.runApp(t, "fcgi", o.Backends[0], fmt.Sprintf("APP_LABEL=site%d", i+1))
		text, err := deploy.Render(o)
		if err != nil {
			t.Fatal(err)
		}
		conf.Write(text)
	}
	inst := webserver.Start(t, webserver.Config{Program: webserver.Lighttpd, Dir: one.serverDir(t), Port: port, Site: conf.String(), DocumentRoot: one.docroot})
	t.Run("site1", func(t *testing.T) {
		matrix{base: inst.URL, host: "site1.test", docrootFiles: true, staticURL: "/static/"}.run(t)
		if l := do(t, "GET", inst.URL+"/", "site1.test", "").app["label"]; l != "site1" {
			t.Errorf("site1.test reached app %q", l)
		}
	})
	t.Run("site2", func(t *testing.T) {
		host := "site2.test:" + strconv.Itoa(port)
		matrix{base: inst.URL, host: host, prefix: "/two", scriptName: "/two", staticURL: "/two/static/"}.run(t)
		if l := do(t, "GET", inst.URL+"/two/", host, "").app["label"]; l != "site2" {
			t.Errorf("site2.test reached app %q", l)
		}
		// site1's root rewrite must not apply to site2.
		if r := do(t, "GET", inst.URL+"/elsewhere", host, ""); r.status == 200 && r.app["label"] != "" {
			t.Errorf("GET /elsewhere on site2 reached app %q; rewrites leak between hosts", r.app["label"])
		}
	})
}

// TestRestartScript runs the restart script twice: the first run starts the daemon, the
// second stops it by its pid file and starts a new one on the same address.
func TestRestartScript(t *testing.T) {
	webserver.RequireProgram(t, "sh")
	s := newSite(t)
	o := s.options("restart", webserver.FreePort(t))
	b := deploy.TCP("127.0.0.1", webserver.FreePort(t))
	o.Backends = []deploy.Backend{b}
	text, err := deploy.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(s.dir, "restart.sh")
	writeFile(t, script, string(text), 0o755)
	pidfile := filepath.Join(s.dir, "mysite.pid")
	t.Cleanup(func() {
		if data, err := os.ReadFile(pidfile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	start := func() int {
		t.Helper()
		// Output to a file, not a pipe: a pipe would also wait for the daemon to close it.
		log, err := os.CreateTemp(s.dir, "restart-*.log")
		if err != nil {
			t.Fatal(err)
		}
		defer log.Close()
		cmd := exec.Command("sh", script)
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			out, _ := os.ReadFile(log.Name())
			t.Fatalf("restart.sh: %v\n%s", err, out)
		}
		for i := 0; i < 250; i++ {
			data, err := os.ReadFile(pidfile)
			pid, perr := strconv.Atoi(strings.TrimSpace(string(data)))
			if err == nil && perr == nil {
				if c, err := net.Dial("tcp", b.Address); err == nil {
					c.Close()
					return pid
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("after restart.sh, no pid file %s or nothing listens on %s", pidfile, b.Address)
		return 0
	}
	first := start()
	second := start()
	if first == second {
		t.Fatalf("pid %d before and after the restart, want a new process", first)
	}
	if err := syscall.Kill(first, 0); err == nil {
		t.Errorf("the old daemon %d still runs after the restart", first)
	}
}

// TestRestartScriptRefusesBadPidFile pins issue 14: restart.sh passed whatever its pid file
// held to kill. It must signal only one positive process id and otherwise stop, touching
// nothing. ("-1" and "0", which would signal every process or the caller's group, are left
// out: on the old script this test would have sent them.)
func TestRestartScriptRefusesBadPidFile(t *testing.T) {
	webserver.RequireProgram(t, "sh")
	for _, content := range []string{"", "abc", "12 34", "-5x", "007", "1\n2"} {
		t.Run(strconv.Quote(content), func(t *testing.T) {
			dir := webserver.TempDir(t)
			o := deploy.Options{Target: "restart", Name: "mysite", Dir: dir, Backends: []deploy.Backend{deploy.TCP("127.0.0.1", 1)}}
			text, err := deploy.Render(o)
			if err != nil {
				t.Fatal(err)
			}
			script := filepath.Join(dir, "restart.sh")
			writeFile(t, script, string(text), 0o755)
			// The binary must never run: it would leave a mark.
			writeFile(t, filepath.Join(dir, "mysite"), "#!/bin/sh\ntouch \"$0.ran\"\n", 0o755)
			pidfile := filepath.Join(dir, "mysite.pid")
			writeFile(t, pidfile, content, 0o644)
			out, err := exec.Command("sh", script).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "does not hold one process id; not signalling") {
				t.Errorf("restart.sh with pid file %q: %v\n%s; want a refusal", content, err, out)
			}
			if _, err := os.Stat(pidfile); err != nil {
				t.Errorf("the pid file was removed: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "mysite.ran")); err == nil {
				t.Errorf("the binary ran")
			}
		})
	}
}

// TestWildcardServerName pins issue 14: --server-name '*.example.com' must give a
// configuration each server loads and matches subdomains with (nginx natively, Apache
// through ServerAlias, lighttpd through an escaped regular expression).
//
// Cherokee (issue 13): with --server-name it refused to start, its lowest virtual server not
// being "default"; now the default one is written too and answers other host names: 404.
func TestWildcardServerName(t *testing.T) {
	for _, target := range []string{"nginx", "apache", "lighttpd", "cherokee"} {
		t.Run(target, func(t *testing.T) {
			p := programFor(t, target)
			s := newSite(t)
			port := webserver.FreePort(t)
			o := s.options(target, port)
			o.ServerNames = []string{"*.example.test"}
			o.Backends = []deploy.Backend{deploy.TCP("127.0.0.1", webserver.FreePort(t))}
			s.runApp(t, "fcgi", o.Backends[0])
			text, err := deploy.Render(o)
			if err != nil {
				t.Fatal(err)
			}
			inst := webserver.Start(t, webserver.Config{Program: p, Dir: s.serverDir(t), Port: port, Site: string(text), DocumentRoot: s.docroot})
			for _, host := range []string{"www.example.test", "a.b.example.test:" + strconv.Itoa(port)} {
				if r := do(t, "GET", inst.URL+"/x", host, ""); r.status != 200 || r.app["pid"] == "" {
					t.Errorf("Host %s: status %d, app %v; want the app", host, r.status, r.app)
				}
			}
			if target == "cherokee" {
				if r := do(t, "GET", inst.URL+"/x", "other.test", ""); r.status != 404 || r.app["pid"] != "" {
					t.Errorf("Host other.test: status %d, app %v; want the default virtual server's 404", r.status, r.app)
				}
			}
			if target == "lighttpd" {
				// The regular expression's dots are escaped: exampleXtest is another host.
				if r := do(t, "GET", inst.URL+"/x", "www.exampleXtest", ""); r.app["pid"] != "" {
					t.Errorf("Host www.exampleXtest reached the app")
				}
			}
		})
	}
}

// TestRestartScriptSecretsStayOffArgv pins issue 14: restart.sh ran
// `env - … APPGEN_SECRET_KEY="$APPGEN_SECRET_KEY" …`, so the secret was an argument of env,
// which every local user sees in ps. Now the app gets its secrets from the 0600 env file,
// read after env has cleared the environment; the script never expands one.
func TestRestartScriptSecretsStayOffArgv(t *testing.T) {
	webserver.RequireProgram(t, "sh")
	dir := webserver.TempDir(t)
	o := deploy.Options{Target: "restart", Name: "mysite", Dir: dir, Protocol: "ajp", Backends: []deploy.Backend{deploy.TCP("127.0.0.1", 8009)}}
	text, err := deploy.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"$APPGEN_SECRET_KEY", "${APPGEN_SECRET_KEY", "$APPGEN_AJP_SECRET", "${APPGEN_AJP_SECRET"} {
		if strings.Contains(string(text), v) {
			t.Errorf("restart.sh expands %s, which puts the secret on a command line:\n%s", v, text)
		}
	}
	script := filepath.Join(dir, "restart.sh")
	writeFile(t, script, string(text), 0o755)
	writeFile(t, filepath.Join(dir, "mysite.env"), "APPGEN_SECRET_KEY=k3y-from-file\nAPPGEN_AJP_SECRET=ajp-from-file\n", 0o600)
	// The "binary" reports the environment and arguments it got.
	writeFile(t, filepath.Join(dir, "mysite"), "#!/bin/sh\nprintf '%s|%s|%s\\n' \"$APPGEN_SECRET_KEY\" \"$APPGEN_AJP_SECRET\" \"$*\" > \"$0.got\"\n", 0o755)
	if out, err := exec.Command("sh", script).CombinedOutput(); err != nil {
		t.Fatalf("restart.sh: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "mysite.got"))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(strings.TrimSpace(string(got)), "|", 3)
	if len(parts) != 3 || parts[0] != "k3y-from-file" || parts[1] != "ajp-from-file" || strings.Contains(parts[2], "from-file") {
		t.Errorf("the app got %q; want both secrets from mysite.env in its environment and neither in its arguments", got)
	}
}
