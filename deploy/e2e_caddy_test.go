package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appgen/appgen/deploy"
	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// process is a web server the test runs in the foreground from the configuration appgen
// wrote, as it is: caddy, haproxy and h2o have no main configuration to include a site from.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	out  strings.Builder
}

func (p *process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// runServer starts exe with args and env in dir, waits until port accepts connections,
// and stops it (SIGTERM, then SIGKILL) when the test ends.
func runServer(t *testing.T, dir string, port int, env []string, exe string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(exe, args...), done: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		stop(p.cmd, p.done)
		if t.Failed() {
			t.Logf("%s said:\n%s", filepath.Base(exe), p.output())
		}
	})
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited: %s", exe, p.output())
		default:
		}
		if i == 500 {
			t.Fatalf("%s does not listen on %d: %v\n%s", exe, port, err, p.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runCaddy runs `caddy run --config F --adapter caddyfile` on text with its home and data
// directories inside dir, so that it writes nothing elsewhere.
func runCaddy(t *testing.T, dir string, port int, text []byte) *process {
	t.Helper()
	exe := webserver.RequireProgram(t, "caddy")
	file := filepath.Join(dir, "Caddyfile")
	writeFile(t, file, string(text), 0o644)
	env := []string{"HOME=" + dir, "XDG_DATA_HOME=" + filepath.Join(dir, "data"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "config")}
	return runServer(t, dir, port, env, exe, "run", "--config", file, "--adapter", "caddyfile")
}

// bigPost sends a 10 MB body and checks that the app got all of it.
func bigPost(t *testing.T, base, prefix string) {
	t.Run("10 MB POST", func(t *testing.T) {
		body := "data=" + strings.Repeat("0123456789", 1<<20)
		r := do(t, "POST", base+prefix+"/upload", "", body)
		// The report's body line is longer than reply's line scanner reads: look for it whole.
		if r.status != 200 || !strings.Contains(r.body, "app method=POST\n") || !strings.Contains(r.body, "app body="+body+"\n") {
			t.Errorf("POST of %d bytes: status %d, the app's report (%d bytes) does not hold the method and the whole body", len(body), r.status, len(r.body))
		}
	})
}

// TestCaddyDeployments runs the Caddyfile `appgen config caddy --listen` writes, as it is,
// in front of the app: TCP, a unix socket under a prefix, and three balanced backends.
func TestCaddyDeployments(t *testing.T) {
	testDeployments(t, "caddy", runCaddy, func(base, prefix string) matrix {
		return matrix{base: base, prefix: prefix, scriptName: prefix, docrootFiles: true, staticURL: prefix + "/static/"}
	})
}

// testDeployments runs what `appgen config TARGET --listen` writes for a FastCGI app, as
// it is, with start (which runs the server TARGET names), in front of the app: over TCP,
// over a unix socket under a prefix, and balanced over three backends. Each carries the
// request matrix withMatrix gives, a 10 MB POST, and, balanced, traffic to every backend;
// a target whose matrix says oneBackend must refuse the three backends instead.
func testDeployments(t *testing.T, target string, start func(t *testing.T, dir string, port int, text []byte) *process, withMatrix func(base, prefix string) matrix) {
	for _, c := range []struct {
		name, prefix string
		backends     int
		unix         bool
	}{
		{name: "tcp", backends: 1},
		{name: "unix prefix", prefix: "/app", backends: 1, unix: true},
		{name: "balanced", backends: 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			webserver.RequireProgram(t, target)
			s := newSite(t)
			port := webserver.FreePort(t)
			o := s.options(target, port)
			o.Prefix = c.prefix
			for i := range c.backends {
				if c.unix {
					o.Backends = append(o.Backends, deploy.Unix(filepath.Join(s.dir, fmt.Sprintf("mysite-%d.sock", i))))
				} else {
					o.Backends = append(o.Backends, deploy.TCP("127.0.0.1", webserver.FreePort(t)))
				}
			}
			base := "http://127.0.0.1:" + strconv.Itoa(port)
			m := withMatrix(base, c.prefix)
			if c.backends > 1 && m.oneBackend {
				var fe *deploy.FieldError
				if _, err := deploy.Render(o); !errors.As(err, &fe) || fe.Field != "Backends" {
					t.Fatalf("%d backends: Render = %v, want a *FieldError for Backends", c.backends, err)
				}
				return
			}
			for _, b := range o.Backends {
				s.runApp(t, "fcgi", b)
			}
			if _, err := deploy.Check(context.Background(), o); err != nil {
				t.Fatalf("--check: %v", err)
			}
			text, err := deploy.Render(o)
			if err != nil {
				t.Fatal(err)
			}
			start(t, s.serverDir(t), port, text)
			m.run(t)
			bigPost(t, base, c.prefix)
			if c.backends > 1 {
				pids := map[string]bool{}
				for range 12 {
					pids[do(t, "GET", base+c.prefix+"/lb", "", "").app["pid"]] = true
				}
				if len(pids) != c.backends {
					t.Errorf("12 requests reached %d app processes, want all %d backends (%v)", len(pids), c.backends, pids)
				}
			}
		})
	}
}
