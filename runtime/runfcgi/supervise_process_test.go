//go:build unix

package runfcgi

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Issue 11's timeout= in prefork: /slow ignores its context, so after the
// 504 the worker running it is replaced, and requests go on being answered
// by its successor.
func TestPreforkTimeoutReplacesStuckWorker(t *testing.T) {
	c := newClient(t)
	dir := tempDir(t)
	sock := filepath.Join(dir, "t.sock")
	p := start(t, helper(t, dir, "method=prefork", "socket="+sock, "daemonize=false",
		"minspare=1", "maxspare=1", "maxchildren=2", "timeout=300ms", "debug=true"))
	p.waitFor("serving fcgi (method=prefork)")
	body, err := c.get(sock, "/before")
	if err != nil {
		t.Fatalf("%v; stderr:\n%s", err, p.stderr())
	}
	first := pidOf(t, body)
	body, err = c.get(sock, "/slow")
	if err == nil || !strings.Contains(err.Error(), "Status: 504") {
		t.Fatalf("GET /slow = %q, %v; want a 504 response", body, err)
	}
	p.waitFor("timeout=300ms: GET /slow still running; answered 504 and its context cancelled")
	p.waitFor("GET /slow ignored its cancellation for 300ms more; replacing this worker")
	replaced := false
	for i := 0; i < 200 && !replaced; i++ {
		body, err := c.get(sock, "/after")
		if err != nil {
			skipIfServeBug(t, err)
			t.Fatalf("request %d after the stuck worker: %v; stderr:\n%s", i, err, p.stderr())
		}
		replaced = pidOf(t, body) != first
	}
	if !replaced {
		t.Errorf("worker %d still answers after its handler got stuck; stderr:\n%s", first, p.stderr())
	}
	p.signal(syscall.SIGTERM)
	if code := p.wait(); code != 0 {
		t.Errorf("exit status %d; stderr:\n%s", code, p.stderr())
	}
	if strings.Contains(p.stderr(), "replacing it") && strings.Contains(p.stderr(), "signal") {
		t.Errorf("the stuck worker was killed, want it drained:\n%s", p.stderr())
	}
}
