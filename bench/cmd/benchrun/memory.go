package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/appgen/appgen/internal/reliability"
	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// memResult is one memory figure and the peer it is compared with.
type memResult struct {
	name, text string
	value      float64
	peer       string
	peerValue  float64
	err        string
}

const (
	idleConns      = 1000
	warmRequests   = 500
	preforkWorkers = 4
)

func memoryCases(bin string) []memResult {
	var out []memResult
	add := func(name string, fn func(r *runner) []memResult) {
		err := runCase(name, func(r *runner) { out = append(out, fn(r)...) })
		if err != nil {
			out = append(out, memResult{name: name, err: err.Error()})
		}
	}
	// The threaded figures come first: the prefork case compares its workers with them.
	var threadedRSS float64
	add("runfcgi threaded process", func(r *runner) []memResult {
		pid, addr := startApp(r, bin, "method=threaded")
		warm(r, addr, warmRequests)
		rss := rss(r, pid)
		threadedRSS = float64(rss)
		return []memResult{{name: "runfcgi method=threaded, one process, after " + strconv.Itoa(warmRequests) + " requests", text: mib(rss), value: float64(rss)}}
	})
	add("runfcgi prefork workers", func(r *runner) []memResult {
		pid, addr := startApp(r, bin, "method=prefork", "minspare="+strconv.Itoa(preforkWorkers),
			"maxspare="+strconv.Itoa(preforkWorkers), "maxchildren="+strconv.Itoa(preforkWorkers))
		warm(r, addr, warmRequests)
		kids, err := reliability.Children(pid)
		if err != nil || len(kids) == 0 {
			r.Fatalf("prefork master %d has no workers (%v)", pid, err)
		}
		var sum, most int64
		for _, k := range kids {
			v := rss(r, k)
			sum += v
			most = max(most, v)
		}
		mean := sum / int64(len(kids))
		master := rss(r, pid)
		return []memResult{
			{name: fmt.Sprintf("runfcgi method=prefork, mean of %d workers", len(kids)), text: fmt.Sprintf("%s (max %s)", mib(mean), mib(most)),
				value: float64(mean), peer: "runfcgi method=threaded process", peerValue: threadedRSS},
			{name: "runfcgi method=prefork, master", text: mib(master), value: float64(master),
				peer: "runfcgi method=threaded process", peerValue: threadedRSS},
		}
	})
	var peerPerConn, httpPerConn float64
	for _, b := range []struct{ backend, label string }{{"gofcgi", "net/http/fcgi"}, {"http", "net/http"}, {"fcgi", "appgen fastcgi"}, {"scgi", "appgen scgi"}, {"ajp", "appgen ajp"}} {
		add(b.label+" idle connections", func(r *runner) []memResult {
			before, after, served := holdIdle(r, bin, b.backend)
			perConn := float64(after-before) / idleConns
			res := []memResult{{
				name:  fmt.Sprintf("%s (threaded) holding %d idle connections", b.label, idleConns),
				text:  fmt.Sprintf("%s → %s, %.1f KiB per connection; new request served: %v", mib(before), mib(after), perConn/1024, served),
				value: perConn,
			}}
			switch b.backend {
			case "gofcgi":
				peerPerConn = perConn
			case "http":
				httpPerConn = perConn
				res[0].peer, res[0].peerValue = "net/http/fcgi, per connection", peerPerConn
			default:
				res[0].peer, res[0].peerValue = "net/http/fcgi, per connection", peerPerConn
				res = append(res, memResult{name: "", text: "", value: perConn, peer: "net/http, per connection", peerValue: httpPerConn})
			}
			return res
		})
	}
	return out
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func rss(r *runner, pid int) int64 {
	v, err := reliability.RSS(pid)
	if err != nil {
		r.Fatalf("%v", err)
	}
	return v
}

// startApp runs the reliability test application through runfcgi on a free port.
func startApp(r *runner, bin string, args ...string) (int, string) {
	port := webserver.FreePort(r)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	all := append([]string{"runfcgi", "protocol=fcgi", "host=127.0.0.1", "port=" + strconv.Itoa(port), "daemonize=false"}, args...)
	cmd := startProcess(r, exec.Command(filepath.Join(bin, "app"), all...), addr)
	return cmd.Process.Pid, addr
}

// warm sends n FastCGI requests for "/", over a fresh connection each, so prefork spreads them
// over its workers, and fails the case on any answer but 200.
func warm(r *runner, addr string, n int) {
	for i := range n {
		if err := fcgiGet(addr, "/"); err != nil {
			r.Fatalf("warm-up request %d: %v", i, err)
		}
	}
}

func fcgiGet(addr, path string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(reliability.FCGIRequest(1, false, nil, reliability.GetParams("GET", path)...)); err != nil {
		return err
	}
	resp, err := reliability.ReadFCGIResponse(bufio.NewReader(c), 1)
	if err != nil {
		return err
	}
	if resp.Status != 200 {
		return fmt.Errorf("status %d, want 200", resp.Status)
	}
	return nil
}

// holdIdle starts a backend, warms it, and measures its RSS before and while idleConns
// connections that never send a byte are open; it also checks that a new request is served
// while they are held.
func holdIdle(r *runner, bin, backend string) (before, after int64, served string) {
	port := webserver.FreePort(r)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := startBackend(r, bin, backend, port)
	pid := cmd.Process.Pid
	for i := range 200 {
		if err := probe(backend, addr); err != nil {
			r.Fatalf("warm-up request %d: %v", i, err)
		}
	}
	time.Sleep(500 * time.Millisecond)
	before = rss(r, pid)
	conns := make([]net.Conn, 0, idleConns)
	r.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := range idleConns {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			r.Fatalf("idle connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	// Long enough for the server to accept all of them and start their goroutines, far shorter
	// than any idle timeout a server here defaults to.
	time.Sleep(time.Second)
	after = rss(r, pid)
	served = "yes"
	if err := probe(backend, addr); err != nil {
		served = "NO: " + err.Error()
	}
	return before, after, served
}

// probe makes one request to the backend at addr in its own protocol.
func probe(backend, addr string) error {
	if backend == "fcgi" || backend == "gofcgi" {
		return fcgiGet(addr, "/")
	}
	if backend == "http" {
		client := &http.Client{Timeout: 10 * time.Second}
		resp, err := client.Get("http://" + addr + "/")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d, want 200", resp.StatusCode)
		}
		return nil
	}
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var resp reliability.Response
	if backend == "scgi" {
		if _, err := c.Write(reliability.SCGIRequest(nil, reliability.GetParams("GET", "/")...)); err != nil {
			return err
		}
		resp, err = reliability.ReadSCGIResponse(bufio.NewReader(c))
	} else {
		if _, err := c.Write(reliability.AJPRequest("GET", "/", nil, ajpSecret)); err != nil {
			return err
		}
		resp, err = reliability.ReadAJPResponse(bufio.NewReader(c))
	}
	if err != nil {
		return err
	}
	if resp.Status != 200 {
		return fmt.Errorf("status %d, want 200", resp.Status)
	}
	return nil
}
