//go:build unix

package manage

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// adminProject builds a module whose /slow answers its first half, then waits for a file named
// release in its directory before the second: a request that stays in flight as long as a test
// wants, across a stop signal.
func adminProject(t *testing.T) (dir, bin string) {
	t.Helper()
	return buildModule(t, map[string]string{"main.go": `package main

import (
	"io"
	"net/http"
	"os"
	"time"

	"github.com/appgen/appgen/runtime/manage"
)

func main() {
	os.Exit(manage.Main(os.Args[1:], manage.Site{Name: "rs", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/slow" {
			io.WriteString(w, "fast")
			return
		}
		io.WriteString(w, "first half, ")
		w.(http.Flusher).Flush()
		for {
			if _, err := os.Stat("release"); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		io.WriteString(w, "second half")
	})}))
}
`})
}

var adminStarted = regexp.MustCompile(`Admin listener at http://(127\.0\.0\.1:\d+)/ \(/healthz, /readyz, /metrics\)\.\nStarting development server at http://(127\.0\.0\.1:\d+)/\n`)

// TestRunserverAdmin pins runserver --admin, which the HTTP-only Docker and Kubernetes
// deployments probe: a real process answers /healthz, /readyz and /metrics on the admin
// address; on SIGTERM /readyz answers 503 by the time the site's listener closes, /healthz
// still answers 200 while the request in flight finishes (a liveness probe must not kill a
// draining pod), and the process exits 0 once it has.
func TestRunserverAdmin(t *testing.T) {
	dir, bin := adminProject(t)
	cmd := exec.Command(bin, "runserver", "--noreload", "--admin", "127.0.0.1:0", "127.0.0.1:0")
	cmd.Dir = dir
	out := &lockedLines{}
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// exited receives Wait's error once; the cleanup waits for the goroutine, not the channel.
	exited, waited := make(chan error, 1), make(chan struct{})
	go func() {
		defer close(waited)
		out.add(stdout)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-waited
	})
	var m []string
	for i := 0; m == nil; i++ {
		if i == 600 {
			t.Fatalf("runserver did not say where it listens; output:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
		m = adminStarted.FindStringSubmatch(out.String())
	}
	admin, site := "http://"+m[1], "http://"+m[2]

	if _, body, err := fetch(site + "/"); err != nil || body != "fast" {
		t.Fatalf("GET / = %q, %v; want fast", body, err)
	}
	tests := []struct {
		path, contentType string
		status            int
		body              []string // substrings
	}{
		{"/healthz", "text/plain; charset=utf-8", 200, []string{"ok\n"}},
		{"/readyz", "text/plain; charset=utf-8", 200, []string{"ready\n"}},
		{"/metrics", "application/openmetrics-text; version=1.0.0; charset=utf-8", 200, []string{
			"appgen_requests_total 1\n", `appgen_responses_total{code="2xx"} 1` + "\n",
			`appgen_workers{model="http",state="active"} 0` + "\n", "appgen_request_duration_seconds_count 1\n", "# EOF\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Get(admin + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != tt.contentType {
				t.Errorf("GET %s = %d %s, want %d %s", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), tt.status, tt.contentType)
			}
			for _, want := range tt.body {
				if !strings.Contains(string(b), want) {
					t.Errorf("GET %s body:\n%s\nwant %q in it", tt.path, b, want)
				}
			}
		})
	}

	// A request in flight across the stop signal.
	resp, err := http.Get(site + "/slow")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if first, err := br.ReadString(' '); err != nil || first != "first " {
		t.Fatalf("reading /slow's first half: %q, %v", first, err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(site, "http://")
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", host)
		if err != nil {
			break
		}
		c.Close()
		if i == 1000 {
			t.Fatalf("%s still accepts connections 10 s after SIGTERM", host)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if status, body, err := fetch(admin + "/readyz"); err != nil || status != 503 || body != "draining\n" {
		t.Errorf("GET /readyz once the site's listener closed = %d %q, %v; want 503 draining", status, body, err)
	}
	if status, _, err := fetch(admin + "/healthz"); err != nil || status != 200 {
		t.Errorf("GET /healthz while draining = %d, %v; want 200", status, err)
	}
	select {
	case err := <-exited:
		t.Fatalf("runserver exited (%v) with a request in flight; output:\n%s", err, out)
	default:
	}
	if err := os.WriteFile(filepath.Join(dir, "release"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if rest, err := io.ReadAll(br); err != nil || string(rest) != "half, second half" {
		t.Errorf("the rest of /slow = %q, %v; want the whole response", rest, err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("runserver after SIGTERM: %v; output:\n%s", err, out)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("runserver did not exit 30 s after its last request; output:\n%s", out)
	}
	if _, _, err := fetch(admin + "/healthz"); err == nil {
		t.Error("the admin listener still answers after runserver exited")
	}
}
