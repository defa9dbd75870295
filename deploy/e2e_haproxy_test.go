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

// haproxyLoad sends requests GETs from clients concurrent clients to HAProxy on port, each
// held hold in the app's handler, and returns how many failed and the first failure.
// Every request must succeed with its own answer.
func haproxyLoad(port, clients, requests int, hold string) (failed int64, first any) {
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	var nfailed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(requests) {
					return
				}
				path := fmt.Sprintf("/load/%d", i)
				resp, err := client.Get("http://127.0.0.1:" + strconv.Itoa(port) + path + "?sleep=" + hold)
				if err != nil {
					nfailed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), "app path="+path+"\n") {
					nfailed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%s: status %d, %v, body %.200q", path, resp.StatusCode, err, body))
				}
			}
		}()
	}
	wg.Wait()
	return nfailed.Load(), firstErr.Load()
}

// haproxyInFrontOf runs the haproxy.cfg appgen writes in front of one app (FastCGI on TCP,
// with the runfcgi keys given), through a relay that counts the FastCGI connections. It
// returns HAProxy's port and the relay, once HAProxy's health checks have connected.
func haproxyInFrontOf(t *testing.T, keys ...string) (int, *countingRelay) {
	t.Helper()
	webserver.RequireProgram(t, "haproxy")
	s := newSite(t)
	port := webserver.FreePort(t)
	app := deploy.TCP("127.0.0.1", webserver.FreePort(t))
	var env []string
	for _, k := range keys {
		env = append(env, "runfcgi:"+k)
	}
	s.runApp(t, "fcgi", app, env...)
	relay := newCountingRelay(t, app.Address)
	o := s.options("haproxy", port)
	o.Backends = []deploy.Backend{{Network: "tcp", Address: relay.ln.Addr().String()}}
	text, err := deploy.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	runHAProxy(t, s.serverDir(t), port, text)
	time.Sleep(100 * time.Millisecond)
	return port, relay
}

// TestHAProxyMultiplexes sends a bounded load through HAProxy to one app with runfcgi's
// defaults (maxchildren=50): 64 clients, 2048 requests, each held 20ms in the handler so
// that the 50 the configuration lets through (maxconn) are in flight at once and the rest
// wait in HAProxy's queue. Every request must succeed with its own answer, and HAProxy must
// carry them on fewer FastCGI connections than there are requests in flight: it
// multiplexes (option mpxs-conns, up to max-reqs 8 on a connection).
//
// Regression (issue 11): with maxchildren=50, HAProxy got a few requests in 1024 refused
// (FCGI_OVERLOADED, which it left unanswered or turned into a 500), from about 40 in
// flight: a handler's slot was given back a moment after its response went out, and
// HAProxy sent the next request on reading it. And with option get-values, the app's
// FCGI_MAX_REQS=50 let HAProxy 2.6 put up to 50 requests on one connection, where it failed
// a few with a 500 of its own (IH, after sending FCGI_ABORT_REQUEST): see
// docs/servers/haproxy.md.
func TestHAProxyMultiplexes(t *testing.T) {
	port, relay := haproxyInFrontOf(t)
	// Health checks connect too: count only the load's connections.
	before := relay.conns.Load()
	const clients, requests, inFlight = 64, 2048, 50
	failed, first := haproxyLoad(port, clients, requests, "20ms")
	conns := relay.conns.Load() - before
	t.Logf("%d requests from %d clients, %d failed, over %d FastCGI connections", requests, clients, failed, conns)
	if failed != 0 {
		t.Fatalf("%d of %d requests failed; first: %v", failed, requests, first)
	}
	if conns >= inFlight {
		t.Errorf("HAProxy opened %d FastCGI connections for %d requests in flight: it did not multiplex", conns, inFlight)
	}
}

// TestHAProxyAppQueues: HAProxy lets 50 requests through (maxconn), up to 8 on a
// connection, to an app that runs 4 at once (maxchildren=4). The app queues what it cannot
// run yet (backlog): every request succeeds. Regression (issue 11): the app refused each
// request beyond maxchildren with FCGI_OVERLOADED, which HAProxy 2.6 leaves unanswered
// until its server timeout.
func TestHAProxyAppQueues(t *testing.T) {
	const maxChildren = 4
	port, relay := haproxyInFrontOf(t, fmt.Sprintf("maxchildren=%d", maxChildren), "maxspare=2")
	before := relay.conns.Load()
	const clients, requests = 64, 256
	failed, first := haproxyLoad(port, clients, requests, "20ms")
	t.Logf("%d requests from %d clients to maxchildren=%d, %d failed, over %d FastCGI connections",
		requests, clients, maxChildren, failed, relay.conns.Load()-before)
	if failed != 0 {
		t.Fatalf("%d of %d requests failed; first: %v", failed, requests, first)
	}
}
