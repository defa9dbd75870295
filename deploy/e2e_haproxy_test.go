package deploy_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appgen/appgen/deploy"
	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// runHAProxy runs `haproxy -db -f F` (the foreground form of `haproxy -f F`) on text. As
// root it runs text as it is, dropping to the haproxy user; any other user cannot change
// user or group, so the two lines that would are left out.
func runHAProxy(t *testing.T, dir string, port int, text []byte) *process {
	t.Helper()
	exe := webserver.RequireProgram(t, "haproxy")
	if os.Geteuid() != 0 {
		t.Log("not root: running without the global section's user and group")
		text = withoutLines(text, func(f []string) bool { return f[0] == "user" || f[0] == "group" })
	}
	file := filepath.Join(dir, "haproxy.cfg")
	writeFile(t, file, string(text), 0o644)
	return runServer(t, dir, port, nil, exe, "-db", "-f", file)
}

// TestHAProxyDeployments runs the haproxy.cfg `appgen config haproxy --listen` writes, as
// it is, in front of the app. HAProxy serves no files, so the static file is not part of
// its matrix (the guide says where they come from).
func TestHAProxyDeployments(t *testing.T) {
	testDeployments(t, "haproxy", runHAProxy, func(base, prefix string) matrix {
		return matrix{base: base, prefix: prefix, scriptName: prefix}
	})
}

// countingRelay forwards every TCP connection it accepts to target and counts them: it
// sits between HAProxy and the app to show how many FastCGI connections carry the load.
type countingRelay struct {
	ln    net.Listener
	conns atomic.Int64
}

func newCountingRelay(t *testing.T, target string) *countingRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &countingRelay{ln: ln}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.conns.Add(1)
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(up, c); up.(*net.TCPConn).CloseWrite() }()
			go func() { defer wg.Done(); io.Copy(c, up); c.Close(); up.Close() }()
		}
	}()
	return r
}

// TestHAProxyMultiplexes sends a bounded load through HAProxy to one app: 64 clients, 1024
// requests, each held 20ms in the handler so that the 32 the configuration lets through
// (maxconn) are in flight at once and the rest wait in HAProxy's queue. Every request must
// succeed with its own answer, and HAProxy must carry them on fewer FastCGI connections
// than there are requests in flight: it multiplexes (option mpxs-conns), which it only
// does because the app answered FCGI_GET_VALUES with FCGI_MPXS_CONNS=1.
func TestHAProxyMultiplexes(t *testing.T) {
	webserver.RequireProgram(t, "haproxy")
	s := newSite(t)
	port := webserver.FreePort(t)
	app := deploy.TCP("127.0.0.1", webserver.FreePort(t))
	// The app's worker limit is raised past the load: this test is about the connections.
	// With runfcgi's default maxchildren=50, HAProxy answered 500 (termination state IH,
	// no response headers from the app) to a few requests in 1024: when it let 50
	// through, from about 40 in flight; once, in a full test run, with 32. With
	// maxchildren raised, none; so the worker limit refuses below its number under load.
	s.runApp(t, "fcgi", app, "runfcgi:maxchildren=200")
	relay := newCountingRelay(t, app.Address)
	o := s.options("haproxy", port)
	o.Backends = []deploy.Backend{{Network: "tcp", Address: relay.ln.Addr().String()}}
	text, err := deploy.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	runHAProxy(t, s.serverDir(t), port, text)
	// Health checks connect too: count only the load's connections.
	time.Sleep(100 * time.Millisecond)
	before := relay.conns.Load()

	const clients, requests = 64, 1024
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > requests {
					return
				}
				path := fmt.Sprintf("/load/%d", i)
				resp, err := client.Get("http://127.0.0.1:" + strconv.Itoa(port) + path + "?sleep=20ms")
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), "app path="+path+"\n") {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%s: status %d, %v, body %.200q", path, resp.StatusCode, err, body))
				}
			}
		}()
	}
	wg.Wait()
	conns := relay.conns.Load() - before
	t.Logf("%d requests from %d clients, %d failed, over %d FastCGI connections", requests, clients, failed.Load(), conns)
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed; first: %v", n, requests, firstErr.Load())
	}
	if inFlight := int64(32); conns >= inFlight {
		t.Errorf("HAProxy opened %d FastCGI connections for %d requests in flight: it did not multiplex", conns, inFlight)
	}
}
