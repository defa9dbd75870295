//go:build unix

package runfcgi

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// Issue 11: the threaded hand-over through nginx with kept FastCGI
// connections (fastcgi_keep_conn, upstream keepalive): SIGHUP after SIGHUP
// under load, and every request answered 200.
func TestThreadedSIGHUPBehindNginx(t *testing.T) {
	webserver.Require(t, webserver.Nginx)
	dir := tempDir(t)
	backend := webserver.FreePort(t)
	pidfile := filepath.Join(dir, "n.pid")
	p := start(t, helper(t, dir, "method=threaded", "host=127.0.0.1", "port="+strconv.Itoa(backend), "daemonize=false", "pidfile="+pidfile))
	t.Cleanup(func() {
		if b, err := os.ReadFile(pidfile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	web := webserver.FreePort(t)
	// The site is written here, not by `appgen config nginx`: the runtime module cannot
	// import deploy (the root module requires this one). It takes nginx's own parameter
	// file, as TestSocketGroupNginx does, rather than a second copy of deploy's list: this
	// test needs the requests to reach the app, not any particular variable.
	inst := webserver.Start(t, webserver.Config{Program: webserver.Nginx, Dir: webserver.TempDir(t), Port: web, Site: fmt.Sprintf(`upstream app {
    server 127.0.0.1:%d;
    keepalive 16;
}
server {
    listen 127.0.0.1:%d;
    access_log off;
    location / {
        include /etc/nginx/fastcgi_params;
        fastcgi_pass app;
        fastcgi_keep_conn on;
    }
}
`, backend, web)})
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	get := func(path string) (string, error) {
		resp, err := client.Get(inst.URL + path)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("GET %s: %s %q", path, resp.Status, b)
		}
		return string(b), err
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := get("/first"); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("%v; stderr:\n%s", err, p.stderr())
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop := make(chan struct{})
	var mu sync.Mutex
	var ok int
	var failures []error
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := get("/load" + strconv.Itoa(i))
				mu.Lock()
				if err != nil {
					failures = append(failures, err)
				} else {
					ok++
				}
				mu.Unlock()
			}
		}()
	}
	const hups = 5
	for i := range hups {
		time.Sleep(300 * time.Millisecond)
		pid := readPID(t, pidfile)
		if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(20 * time.Second); readPID(t, pidfile) == pid; {
			if time.Now().After(deadline) {
				t.Fatalf("SIGHUP %d: pid %d never handed over; stderr:\n%s", i+1, pid, p.stderr())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	for _, err := range failures {
		t.Errorf("request failed across %d hand-overs: %v", hups, err)
	}
	t.Logf("%d requests through nginx across %d hand-overs, %d failed", ok+len(failures), hups, len(failures))
}
