//go:build unix

package manage

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/gateway"
	"github.com/appgen/appgen/runtime/testsupport/logbuf"
)

// watchedOutput is an output the test can wait on, line by line, while Main writes it.
type watchedOutput struct {
	mu      sync.Mutex
	b       strings.Builder
	changed chan struct{}
}

func newWatchedOutput() *watchedOutput { return &watchedOutput{changed: make(chan struct{})} }

func (o *watchedOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.b.Write(p)
	close(o.changed)
	o.changed = make(chan struct{})
	return len(p), nil
}

func (o *watchedOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// waitFor returns the first match of re in the output, waiting for it to be written; it fails
// the test if Main returns first.
func (o *watchedOutput) waitFor(t *testing.T, re *regexp.Regexp, mainDone <-chan int) []string {
	t.Helper()
	for {
		o.mu.Lock()
		m := re.FindStringSubmatch(o.b.String())
		changed := o.changed
		o.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-changed:
		case status := <-mainDone:
			t.Fatalf("Main returned %d before writing %s; output:\n%s", status, re, o.String())
		}
	}
}

var started = regexp.MustCompile(`Starting development server at http://(127\.0\.0\.1:\d+)(\S*)/\n`)

// server runs Main's runserver on a free loopback port and returns its address and a channel
// that receives Main's exit status.
func server(t *testing.T, site Site) (addr string, stdout, stderr *watchedOutput, done chan int) {
	t.Helper()
	stdout, stderr = newWatchedOutput(), newWatchedOutput()
	site.Name, site.Stdout, site.Stderr = "mysite", stdout, stderr
	done = make(chan int, 1)
	go func() { done <- Main([]string{"runserver", "--noreload", "127.0.0.1:0"}, site) }()
	m := stdout.waitFor(t, started, done)
	return m[1], stdout, stderr, done
}

func signalSelf(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

func TestRunserver(t *testing.T) {
	staticRoot := t.TempDir()
	if err := os.WriteFile(filepath.Join(staticRoot, "site.css"), []byte("body{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(staticRoot, "img"), 0o755); err != nil {
		t.Fatal(err)
	}
	prefix := "/app/"
	site := Site{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "path=%s script=%s uri=%s", r.URL.Path, gateway.ScriptName(r), r.RequestURI)
		}),
		Profile:         "development",
		Check:           func() []error { return []error{fmt.Errorf("settings: a warning")} },
		ForceScriptName: &prefix,
		ServeStatic:     true,
		StaticURL:       "/static/",
		StaticRoot:      staticRoot,
	}
	addr, stdout, stderr, done := server(t, site)
	if !strings.Contains(stdout.String(), "http://"+addr+"/app/\n") {
		t.Errorf("stdout = %q, want the address with the script name", stdout.String())
	}
	for _, want := range []string{`Using settings profile "development".`, "Quit the server with CONTROL-C."} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout = %q, want %q", stdout.String(), want)
		}
	}
	if want := "System check identified some issues (runserver goes on; check fails on them):\n  settings: a warning\n"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr = %q, want the check's warning %q", stderr.String(), want)
	}

	tests := []struct {
		name, path string
		status     int
		body       string
	}{
		{"mount point", "/app", 200, "path=/ script=/app uri=/app"},
		{"mount point with slash", "/app/", 200, "path=/ script=/app uri=/app/"},
		{"inside", "/app/a/b?q=1", 200, "path=/a/b script=/app uri=/app/a/b?q=1"},
		{"escaped", "/app/a%2Fb", 200, "path=/a/b script=/app uri=/app/a%2Fb"},
		{"outside", "/other", 404, "404 page not found: the site is mounted at /app/ (ForceScriptName)\n"},
		{"prefix of a segment", "/application", 404, "404 page not found: the site is mounted at /app/ (ForceScriptName)\n"},
		{"static file", "/static/site.css", 200, "body{}"},
		{"static missing", "/static/nope.css", 404, "404 page not found\n"},
		{"static directory is not listed", "/static/img/", 404, "404 page not found\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := get(t, "http://"+addr+tt.path)
			if status != tt.status || body != tt.body {
				t.Errorf("GET %s = %d %q, want %d %q", tt.path, status, body, tt.status, tt.body)
			}
		})
	}
	for _, want := range []string{`"GET /static/site.css HTTP/1.1" 200 6`, `"GET /other HTTP/1.1" 404`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr = %q, want the request the application never saw logged: %s", stderr.String(), want)
		}
	}

	signalSelf(t)
	if status := <-done; status != ExitOK {
		t.Errorf("Main = %d after SIGTERM, want %d; stderr:\n%s", status, ExitOK, stderr.String())
	}
	if !strings.Contains(stdout.String(), "Server stopped.") {
		t.Errorf("stdout = %q, want it to say the server stopped", stdout.String())
	}
}

// TestRunserverGracefulShutdown stops the server while a request is in flight: the request
// finishes with its whole response, and Main returns only after it.
func TestRunserverGracefulShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var sawCanceled bool
	site := Site{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/slow" {
			io.WriteString(w, "fast")
			return
		}
		io.WriteString(w, "first half, ")
		w.(http.Flusher).Flush()
		close(entered)
		<-release
		sawCanceled = r.Context().Err() != nil
		io.WriteString(w, "second half")
	})}
	addr, stdout, stderr, done := server(t, site)

	// An idle keep-alive connection must not hold the stop up.
	if status, _ := get(t, "http://"+addr+"/"); status != 200 {
		t.Fatalf("GET / = %d, want 200", status)
	}
	type result struct {
		body string
		err  error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		slow <- result{string(body), err}
	}()
	<-entered
	signalSelf(t)
	stdout.waitFor(t, regexp.MustCompile(`Received terminated: stopping`), done)
	// The stop is under way once the listener is closed; from then on the request in flight must
	// still be allowed to finish.
	waitListenerClosed(t, addr)
	select {
	case status := <-done:
		t.Fatalf("Main returned %d with a request in flight", status)
	default:
	}
	close(release)
	res := <-slow
	if res.err != nil || res.body != "first half, second half" {
		t.Errorf("in-flight request = %q, %v; want the whole response", res.body, res.err)
	}
	if sawCanceled {
		t.Error("the in-flight request's context was canceled by a graceful stop")
	}
	if status := <-done; status != ExitOK {
		t.Errorf("Main = %d, want %d; stderr:\n%s", status, ExitOK, stderr.String())
	}
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after Main returned", addr)
	}
}

// waitListenerClosed dials addr until the connection is refused.
func waitListenerClosed(t *testing.T, addr string) {
	t.Helper()
	for range 10000 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		conn.Close()
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%s still accepts connections after the signal", addr)
}

// TestRunserverSecondSignal stops at once on a second signal, whatever is in flight.
func TestRunserverSecondSignal(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	site := Site{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	})}
	addr, stdout, stderr, done := server(t, site)
	failed := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
		}
		failed <- err
	}()
	<-entered
	signalSelf(t)
	stdout.waitFor(t, regexp.MustCompile(`Received terminated`), done)
	signalSelf(t)
	if status := <-done; status != ExitError {
		t.Errorf("Main = %d after a second signal, want %d", status, ExitError)
	}
	if err := <-failed; err == nil {
		t.Error("the request in flight succeeded, want it cut off by the second signal")
	}
	if want := "mysite: runserver: stopped by a second terminated with requests still in flight"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr = %q, want %q", stderr.String(), want)
	}
}

func TestRunserverAddressInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var stdout, stderr logbuf.Buffer
	status := Main([]string{"runserver", l.Addr().String()}, Site{Name: "mysite", Handler: hello(), Stdout: &stdout, Stderr: &stderr})
	if status != ExitError {
		t.Errorf("Main = %d on a busy address, want %d", status, ExitError)
	}
	if want := "mysite: runserver: listen tcp " + l.Addr().String() + ": "; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr = %q, want %q", stderr.String(), want)
	}
}

// TestRunserverStaticConfined pins issue 14 §6: runserver followed symbolic links out of
// StaticRoot and served static files to any Host. Now a link inside the root is followed, one
// leading out of it is a 404, and a Host outside the allowed hosts gets 400.
func TestRunserverStaticConfined(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "static")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"static/site.css": "body{}", "secret.txt": "the source's secret"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"static/inside.css": "site.css",
		"static/out.txt":    "../secret.txt",
		"static/abs.txt":    filepath.Join(dir, "secret.txt"),
		"static/up":         "..",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	addr, _, stderr, done := server(t, Site{
		Handler:     hello(),
		ServeStatic: true,
		StaticURL:   "/static/",
		StaticRoot:  root,
		Deploy:      &Deploy{Debug: true, AllowedHosts: []string{"127.0.0.1", "www.example.com"}},
	})
	tests := []struct {
		name, path, host string
		status           int
		body             string
	}{
		{"a file", "/static/site.css", "", 200, "body{}"},
		{"a link inside the root", "/static/inside.css", "", 200, "body{}"},
		{"a relative link out of the root", "/static/out.txt", "", 404, "404 page not found\n"},
		{"an absolute link out of the root", "/static/abs.txt", "", 404, "404 page not found\n"},
		{"a link to the parent", "/static/up/secret.txt", "", 404, "404 page not found\n"},
		{"an allowed host", "/static/site.css", "www.example.com", 200, "body{}"},
		{"a host not allowed", "/static/site.css", "evil.example", 400, "Bad Request (400)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", "http://"+addr+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || string(body) != tt.body {
				t.Errorf("GET %s (Host %q) = %d %q, want %d %q", tt.path, tt.host, resp.StatusCode, body, tt.status, tt.body)
			}
		})
	}
	if !strings.Contains(stderr.String(), `invalid Host header "evil.example"`) {
		t.Errorf("stderr = %q, want the refused Host logged", stderr.String())
	}
	signalSelf(t)
	<-done
}
