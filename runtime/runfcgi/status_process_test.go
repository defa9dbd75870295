//go:build unix

package runfcgi

import (
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// adminGet fetches path from the admin listener.
func adminGet(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		t.Fatalf("GET %s from admin=%s: %v", path, addr, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// statusField returns one "name: value" line's value from php-fpm's text.
func statusField(t *testing.T, text, name string) string {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %q in status page:\n%s", name, text)
	return ""
}

// Issue 11's observability, in both models, through a real FastCGI client
// for status= and ping= and over HTTP for admin=.
func TestStatusPingAdmin(t *testing.T) {
	c := newClient(t)
	for _, method := range []string{"threaded", "prefork"} {
		t.Run(method, func(t *testing.T) {
			dir := tempDir(t)
			sock := filepath.Join(dir, "s.sock")
			admin := "127.0.0.1:" + strconv.Itoa(freePort(t))
			p := start(t, helper(t, dir, "method="+method, "socket="+sock, "daemonize=false", "debug=true",
				"minspare=2", "maxspare=2", "maxchildren=4", "status=/fpm-status", "ping=/fpm-ping", "admin="+admin))
			p.waitFor("serving fcgi (method=" + method + ")")
			if body, err := c.get(sock, "/fpm-ping"); err != nil || body != "pong\n" {
				t.Fatalf("ping = %q, %v; stderr:\n%s", body, err, p.stderr())
			}
			for i := range 5 {
				if _, err := c.get(sock, "/r"+strconv.Itoa(i)); err != nil {
					t.Fatal(err)
				}
			}
			// Prefork workers report every 100 ms; wait for the count.
			var text string
			for deadline := time.Now().Add(10 * time.Second); ; {
				body, err := c.get(sock, "/fpm-status")
				if err != nil {
					t.Fatal(err)
				}
				text = body
				if n, _ := strconv.Atoi(statusField(t, text, "accepted conn")); n >= 5 || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			// The command docs/runfcgi.md shows for a terminal, as written
			// but for the socket's path.
			doc := exec.Command(c.prog, "-bind", "-connect", sock)
			doc.Env = []string{"REQUEST_METHOD=GET", "REQUEST_URI=/fpm-status"}
			if out, err := doc.Output(); err != nil || !strings.Contains(string(out), "process manager:      "+method) {
				t.Errorf("REQUEST_METHOD=GET REQUEST_URI=/fpm-status cgi-fcgi -bind -connect %s: %v\n%s", sock, err, out)
			}
			if got := statusField(t, text, "process manager"); got != method {
				t.Errorf("process manager %q, want %q", got, method)
			}
			if n, _ := strconv.Atoi(statusField(t, text, "accepted conn")); n < 5 {
				t.Errorf("accepted conn %d, want at least the 5 requests:\n%s", n, text)
			}
			if method == "prefork" {
				if got := statusField(t, text, "total processes"); got != "2" {
					t.Errorf("total processes %s, want the 2 workers:\n%s", got, text)
				}
			}
			if code, body := adminGet(t, admin, "/healthz"); code != 200 || body != "ok\n" {
				t.Errorf("/healthz = %d %q", code, body)
			}
			if code, body := adminGet(t, admin, "/readyz"); code != 200 {
				t.Errorf("/readyz = %d %q, want 200", code, body)
			}
			code, metrics := adminGet(t, admin, "/metrics")
			if code != 200 || !strings.Contains(metrics, "appgen_requests_total ") || !strings.Contains(metrics, `model="`+method+`"`) {
				t.Errorf("/metrics = %d:\n%s", code, metrics)
			}
			checkOpenMetrics(t, metrics)
			// Responses by status reach /metrics, from prefork's workers too.
			for deadline := time.Now().Add(10 * time.Second); !strings.Contains(metrics, `appgen_responses_total{code="2xx"} `) ||
				strings.Contains(metrics, `appgen_responses_total{code="2xx"} 0`+"\n"); {
				if time.Now().After(deadline) {
					t.Fatalf("no 2xx response counted in /metrics:\n%s", metrics)
				}
				time.Sleep(50 * time.Millisecond)
				_, metrics = adminGet(t, admin, "/metrics")
			}

			// Draining: /readyz says so while a request is still in flight.
			slow := slowRequest(t, c, p, sock, dir)
			p.signal(syscall.SIGTERM)
			p.waitFor("finishing the requests in flight")
			for deadline := time.Now().Add(10 * time.Second); ; {
				code, _ := adminGet(t, admin, "/readyz")
				if code == 503 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("/readyz = %d while draining, want 503", code)
				}
				time.Sleep(20 * time.Millisecond)
			}
			release(t, dir)
			if r := <-slow; r.err != nil {
				t.Errorf("request in flight while draining: %v", r.err)
			}
			if code := p.wait(); code != 0 {
				t.Errorf("exit status %d; stderr:\n%s", code, p.stderr())
			}
		})
	}
}
