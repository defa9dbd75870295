package reliability

import (
	"context"
	"fmt"
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

// TestSIGHUPUnderLoadBothModels is issue 11's zero-downtime measure: nginx → runfcgi over
// FastCGI with keep-conn and upstream keepalive, under load, while the app gets SIGHUP every
// 2 s, in both process models: threaded (the process hands its socket to the binary on disk
// and drains once the new one serves; the pidfile follows, and each SIGHUP goes to the
// process the pidfile names) and prefork (the master replaces its workers one by one). Every
// request must be answered 2xx: no non-2xx, no socket error. Every `go test` runs 5 SIGHUPs
// over 10 s per model; APPGEN_LONG=1 runs the full minute (30 SIGHUPs), whose figures
// docs/reliability.md records.
func TestSIGHUPUnderLoadBothModels(t *testing.T) {
	webserver.Require(t, webserver.Nginx)
	const every = 2 * time.Second
	duration := 10*time.Second + every/2
	if long() {
		duration = time.Minute + every/2
	}
	for _, method := range []string{"threaded", "prefork"} {
		t.Run(method, func(t *testing.T) {
			dir := webserver.TempDir(t)
			pidfile := filepath.Join(dir, "app.pid")
			backend := webserver.FreePort(t)
			addr := "127.0.0.1:" + strconv.Itoa(backend)
			p := startApp(t, "tcp", addr, "protocol=fcgi", "method="+method, "host=127.0.0.1", "port="+strconv.Itoa(backend), "pidfile="+pidfile)
			web := webserver.FreePort(t)
			inst := webserver.Start(t, webserver.Config{Program: webserver.Nginx, Dir: webserver.TempDir(t), Port: web, Site: nginxFastCGISite(web, backend)})

			ctx, cancel := context.WithCancel(context.Background())
			var (
				wg    sync.WaitGroup
				hups  int
				pids  = map[int]bool{}
				notes []string
			)
			wg.Add(1)
			go func() {
				defer wg.Done()
				tick := time.NewTicker(every)
				defer tick.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-tick.C:
						pid, err := readPidfile(pidfile)
						if err == nil {
							err = syscall.Kill(pid, syscall.SIGHUP)
						}
						if err != nil {
							notes = append(notes, err.Error())
							continue
						}
						hups++
						pids[pid] = true
					}
				}
			}()
			rep := Load(context.Background(), LoadOptions{BaseURL: inst.URL, Paths: []string{"/", "/sleep?ms=5"}, Conns: 8, Duration: duration})
			cancel()
			wg.Wait()
			t.Logf("%s, SIGHUP every %v for %v: %s; %d SIGHUPs to %d processes %v", method, every, duration.Truncate(time.Second), rep, hups, len(pids), notes)
			if lost := rep.Non2xx() + rep.SocketErrors; lost != 0 {
				t.Errorf("%d requests lost (%d non-2xx, %d socket errors %v), want 0", lost, rep.Non2xx(), rep.SocketErrors, rep.FirstErrors)
			}
			if want := int(duration / every); hups < want {
				t.Errorf("%d SIGHUPs sent, want %d (%v)", hups, want, notes)
			}
			if rep.Sent == 0 {
				t.Errorf("no request sent")
			}
			// Threaded: each SIGHUP went to a new process, the one the previous SIGHUP started.
			// Prefork: the master stays.
			if method == "threaded" && len(pids) != hups {
				t.Errorf("SIGHUPs went to %d distinct processes, want %d: the pidfile must follow the hand-over", len(pids), hups)
			}
			if method == "prefork" {
				select {
				case <-p.exited:
					t.Errorf("the prefork master exited during the scenario: %v", p.err)
				default:
				}
			}
		})
	}
}

// readPidfile reads the process id a runfcgi pidfile= names.
func readPidfile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid < 1 {
		return 0, fmt.Errorf("pidfile %s holds %q, want a process id", path, b)
	}
	return pid, nil
}
