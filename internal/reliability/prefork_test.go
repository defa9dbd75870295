package reliability

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/appgen/appgen/deploy"
	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// nginxFastCGISite is the site `appgen config nginx` writes for a FastCGI backend on
// 127.0.0.1:backendPort, listening on 127.0.0.1:webPort (fastcgi_keep_conn, kept-alive
// upstream connections): the scenarios load what users run. Its project directory is
// /nonexistent (nobody's home on Debian), so no file shadows the app. extra are directives
// set around the site, at the http{} level the harness includes it at, and so inherited by
// it; access logging is off, as in the benchmarks. A site that fails to render is a bug in
// deploy, reported by a panic: the signature stays the one the scenarios call.
func nginxFastCGISite(webPort, backendPort int, extra ...string) string {
	text, err := deploy.Render(deploy.Options{
		Target: "nginx", Dir: "/nonexistent/mysite", Listen: "127.0.0.1:" + strconv.Itoa(webPort),
		Backends: []deploy.Backend{deploy.TCP("127.0.0.1", backendPort)},
	})
	if err != nil {
		panic(fmt.Sprintf("reliability: rendering the nginx site: %v", err))
	}
	var b strings.Builder
	for _, d := range append([]string{"access_log off;"}, extra...) {
		b.WriteString(d + "\n")
	}
	return b.String() + string(text)
}

// preforkBehindNginx starts the app with method=prefork on a loopback port and nginx in front.
func preforkBehindNginx(t *testing.T, extra ...string) (*appProcess, *webserver.Instance) {
	t.Helper()
	webserver.Require(t, webserver.Nginx)
	backend := webserver.FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(backend)
	args := append([]string{"protocol=fcgi", "method=prefork", "host=127.0.0.1", "port=" + strconv.Itoa(backend)}, extra...)
	p := startApp(t, "tcp", addr, args...)
	dir := webserver.TempDir(t)
	web := webserver.FreePort(t)
	inst := webserver.Start(t, webserver.Config{Program: webserver.Nginx, Dir: dir, Port: web, Site: nginxFastCGISite(web, backend)})
	return p, inst
}

// loadDuration is how long each long prefork scenario keeps the load on.
const loadDuration = 30 * time.Second

// TestPreforkUnderLoad covers scenarios 1 to 3: nginx → runfcgi prefork over FastCGI with
// keep-conn under load for 30 s while (1) the master gets SIGHUP every 2 s, (2) workers recycle
// after 50 requests each, (3) a worker is killed with SIGKILL every 3 s. Scenarios 1 and 2 must
// lose nothing; in 3 only requests in flight on the killed worker may fail, and the time the
// pool takes to get back to minspare workers is measured and logged (not asserted).
func TestPreforkUnderLoad(t *testing.T) {
	requireLong(t)
	const minspare, conns = 4, 16
	spare := []string{"minspare=" + strconv.Itoa(minspare), "maxspare=8", "maxchildren=16"}
	tests := []struct {
		name  string
		extra []string
		every time.Duration
		// fault runs on its own goroutine, so it reports through its note, never t.Fatal.
		fault func(p *appProcess) (note string)
		// mayFail bounds the failures per fault (kill -9: what was in flight on that worker).
		mayFail int
	}{
		{name: "SIGHUP every 2s", every: 2 * time.Second, fault: func(p *appProcess) string {
			if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				return err.Error()
			}
			return "hup"
		}},
		{name: "maxrequests=50", extra: []string{"maxrequests=50"}},
		{name: "kill -9 every 3s", every: 3 * time.Second, mayFail: conns, fault: func(p *appProcess) string {
			kids, err := Children(p.cmd.Process.Pid)
			if err != nil || len(kids) == 0 {
				return fmt.Sprintf("no worker to kill (%v)", err)
			}
			sort.Ints(kids)
			victim := kids[len(kids)/2]
			if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
				return err.Error()
			}
			killed := time.Now()
			// Back to minspare: counted from the kill until minspare workers are alive again.
			for time.Since(killed) < 3*time.Second {
				alive := 0
				kids, _ := Children(p.cmd.Process.Pid)
				for _, k := range kids {
					if k != victim && syscall.Kill(k, 0) == nil {
						alive++
					}
				}
				if alive >= minspare {
					return time.Since(killed).Round(time.Millisecond).String()
				}
				time.Sleep(5 * time.Millisecond)
			}
			return "not back within 3s"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, inst := preforkBehindNginx(t, append(spare, tc.extra...)...)
			ctx, cancel := context.WithCancel(context.Background())
			var faults []string
			var wg sync.WaitGroup
			if tc.fault != nil {
				wg.Add(1)
				go func() {
					defer wg.Done()
					tick := time.NewTicker(tc.every)
					defer tick.Stop()
					for {
						select {
						case <-ctx.Done():
							return
						case <-tick.C:
							faults = append(faults, tc.fault(p))
						}
					}
				}()
			}
			rep := Load(context.Background(), LoadOptions{BaseURL: inst.URL, Paths: []string{"/", "/sleep?ms=5"}, Conns: conns, Duration: loadDuration})
			cancel()
			wg.Wait()
			t.Logf("%s: %s; faults %d %v", tc.name, rep, len(faults), faults)
			lost := rep.Non2xx() + rep.SocketErrors
			if allowed := int64(tc.mayFail * len(faults)); lost > allowed {
				t.Errorf("%d requests lost, want at most %d", lost, allowed)
			}
			if rep.Sent == 0 {
				t.Errorf("no request sent")
			}
			select {
			case <-p.exited:
				t.Errorf("the master exited during the scenario: %v", p.err)
			default:
			}
		})
	}
}

// TestPanicPrefork is scenario 4 in the prefork model, through nginx: the panicking path gets
// 500, the rest 200, and the pool keeps its workers.
func TestPanicPrefork(t *testing.T) {
	requireLong(t)
	p, inst := preforkBehindNginx(t, "minspare=2", "maxspare=4", "maxchildren=8")
	base := Load(context.Background(), LoadOptions{BaseURL: inst.URL, Paths: []string{"/"}, Conns: 8, Duration: 10 * time.Second})
	mixed := Load(context.Background(), LoadOptions{BaseURL: inst.URL, Paths: []string{"/", "/panic"}, Conns: 8, Duration: 10 * time.Second})
	rateBase := float64(base.Count("/", 200)) / base.Elapsed.Seconds()
	rateMixed := float64(mixed.Count("/", 200)) / mixed.Elapsed.Seconds()
	t.Logf("alone: %s", base)
	t.Logf("mixed: %s", mixed)
	t.Logf("rate of / with panics mixed in: %.0f/s against %.0f/s alone (%.2f×; half the requests are /panic)", rateMixed, rateBase, rateMixed/rateBase)
	if base.Non2xx()+base.SocketErrors != 0 {
		t.Errorf("alone: %d lost", base.Non2xx()+base.SocketErrors)
	}
	if mixed.SocketErrors != 0 || mixed.Count("/panic", 500) != mixed.Non2xx() || mixed.Non2xx() != mixed.Count("/panic", 500) {
		t.Errorf("mixed: want 500 for /panic only and no socket error")
	}
	if len(workerPIDs(t, p.cmd.Process.Pid)) < 2 {
		t.Errorf("fewer than minspare=2 workers after the panics")
	}
}
