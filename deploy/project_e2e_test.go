package deploy_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/appgen/appgen/deploy"
	"github.com/appgen/appgen/internal/command"
	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// generatedProject runs `appgen startproject mysite` through the real entry point into a
// directory the web servers can read, builds it, and returns its directory.
func generatedProject(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(webserver.TempDir(t), "mysite")
	var stdout, stderr bytes.Buffer
	args := []string{"appgen", "startproject", "mysite", dir}
	if status := command.Execute(command.Build{Version: "e2e"}, os.DirFS(filepath.Join(root, "runtime")), args, &stdout, &stderr); status != 0 {
		t.Fatalf("appgen startproject: status %d\n%s%s", status, stdout.String(), stderr.String())
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", "mysite", ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build in the generated project: %v\n%s", err, out)
	}
	return dir
}

// TestGeneratedProject deploys a freshly generated project: `appgen config` reads its
// settings/deploy.go, nginx proxies to its runfcgi daemon under a prefix, and Apache's
// mod_fcgid runs it through the launcher startproject wrote, restarting it after `touch`.
func TestGeneratedProject(t *testing.T) {
	webserver.Require(t, webserver.Nginx)
	webserver.Require(t, webserver.Apache)
	dir := generatedProject(t)
	p, err := deploy.ReadProject(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "mysite" || p.Protocol != "fcgi" || p.Socket != "/run/mysite/mysite.sock" || p.StaticURL != "/static/" {
		t.Fatalf("ReadProject(generated project) = %+v", p)
	}
	css, err := os.ReadFile(filepath.Join(dir, "static", "site.css"))
	if err != nil {
		t.Fatal(err)
	}
	docroot := filepath.Join(dir, "public_html")
	if err := os.MkdirAll(docroot, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &site{dir: dir, docroot: docroot, static: filepath.Join(dir, "static"), binary: filepath.Join(dir, "mysite")}

	t.Run("nginx daemon under a prefix", func(t *testing.T) {
		port := webserver.FreePort(t)
		o := p.Options("nginx")
		// The static URL is the project's, as appgen config keeps it under --prefix.
		o.Listen, o.Prefix, o.DocumentRoot = "127.0.0.1:"+strconv.Itoa(port), "/app", docroot
		o.Backends = []deploy.Backend{deploy.TCP("127.0.0.1", webserver.FreePort(t))}
		s.runAppSettings(t, "development", o.Backends[0])
		text, err := deploy.Render(o)
		if err != nil {
			t.Fatal(err)
		}
		inst := webserver.Start(t, webserver.Config{Program: webserver.Nginx, Dir: serverDir(t, dir, "nginx"), Port: port, Site: string(text), DocumentRoot: docroot})
		checkGenerated(t, inst.URL, "/app", string(css))
	})

	t.Run("apache-fcgid launcher", func(t *testing.T) {
		port := webserver.FreePort(t)
		// The launcher is the one startproject wrote, as it is: it runs the production
		// profile and reads the secret key and the allowed hosts from mysite.env, as a
		// deployment must: runfcgi refuses production with the key generated into the
		// source, or with no allowed hosts (the launcher never defaults them to "*").
		launcher := filepath.Join(dir, "mysite.fcgi")
		env := "APPGEN_SECRET_KEY=e2e-Xq7vR2mK9pL4wT8zN1cY6hB3sD5fJ0gA-uV_iO+tRyWkEa\nAPPGEN_ALLOWED_HOSTS=127.0.0.1\n"
		if err := os.WriteFile(filepath.Join(dir, "mysite.env"), []byte(env), 0o600); err != nil {
			t.Fatal(err)
		}
		o := p.Options("apache-fcgid")
		o.Listen, o.DocumentRoot = "127.0.0.1:"+strconv.Itoa(port), docroot
		conf, err := deploy.Render(o)
		if err != nil {
			t.Fatal(err)
		}
		inst := webserver.Start(t, webserver.Config{Program: webserver.Apache, Dir: serverDir(t, dir, "apache"), Port: port, Site: string(conf), DocumentRoot: docroot})
		checkGenerated(t, inst.URL, "", string(css))

		// A deployment: a new build replaces the binary (a new file, as `go build` and
		// rename make), then `touch mysite.fcgi`. The running process keeps the old file,
		// which /proc shows as deleted, until it restarts.
		if len(processesOf(t, s.binary)) == 0 {
			t.Fatalf("no process runs %s after serving requests", s.binary)
		}
		replaceBinary(t, s.binary)
		later := time.Now().Add(2 * time.Second)
		if err := os.Chtimes(launcher, later, later); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 150; i++ {
			time.Sleep(100 * time.Millisecond)
			if r := do(t, "GET", inst.URL+"/", "", ""); r.status == 200 && len(processesOf(t, s.binary)) > 0 {
				return
			}
		}
		t.Fatalf("no process runs the new %s after touching %s", s.binary, launcher)
	})
}

// checkGenerated runs the request matrix against the generated project's example site.
func checkGenerated(t *testing.T, base, prefix, css string) {
	t.Helper()
	r := do(t, "GET", base+prefix+"/", "", "")
	// The page links home with the mount prefix (the HelloWorld middleware and its /hello
	// left the generated site's chain: issue 10).
	if r.status != 200 || !strings.Contains(r.body, `href="`+prefix+`/"`) {
		t.Errorf("GET %s/ = %d, want the example page linking to %s/:\n%s", prefix, r.status, prefix, r.body)
	}
	if r := do(t, "GET", base+prefix+"/deep/caf%C3%A9?q=%C3%A9", "", ""); r.status != 404 {
		t.Errorf("GET a deep non-ASCII path = %d, want the app's 404:\n%s", r.status, r.body)
	}
	if r := do(t, "POST", base+prefix+"/", "", "a=1"); r.status != 405 {
		t.Errorf("POST %s/ = %d, want the app's 405 (its index is GET only):\n%s", prefix, r.status, r.body)
	}
	// Issue 10: under --prefix nginx served /app/static/ while the page linked /static/:
	// the stylesheet the page links must be there.
	link := regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)">`).FindStringSubmatch(r.body)
	if link == nil {
		t.Fatalf("GET %s/: no stylesheet link in the page:\n%s", prefix, r.body)
	}
	if r := do(t, "GET", base+link[1], "", ""); r.status != 200 || r.body != css {
		t.Errorf("GET %s (the page's stylesheet) = %d, want the file", link[1], r.status)
	}
}

func serverDir(t *testing.T, dir, name string) string {
	t.Helper()
	d := filepath.Join(dir, "server-"+name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// replaceBinary puts a copy of binary in its place under a new inode, as deploying a new
// build does.
func replaceBinary(t *testing.T, binary string) {
	t.Helper()
	data, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	next := binary + ".new"
	writeFile(t, next, string(data), 0o755)
	if err := os.Rename(next, binary); err != nil {
		t.Fatal(err)
	}
}

// processesOf lists the pids whose executable is binary.
func processesOf(t *testing.T, binary string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to find processes in: %v", err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == binary {
			pids = append(pids, pid)
		}
	}
	return pids
}
