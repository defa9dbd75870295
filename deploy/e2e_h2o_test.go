package deploy_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/appgen/appgen/deploy"
	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// runH2O runs `h2o -c F` on text, in the foreground. As root it runs text as it is,
// switching to the debian-h2o user; any other user cannot switch, so the user line is
// left out.
func runH2O(t *testing.T, dir string, port int, text []byte) *process {
	t.Helper()
	exe := webserver.RequireProgram(t, "h2o")
	if os.Geteuid() != 0 {
		t.Log("not root: running without the user line")
		text = withoutLines(text, func(f []string) bool { return f[0] == "user:" })
	}
	file := filepath.Join(dir, "h2o.conf")
	writeFile(t, file, string(text), 0o644)
	return runServer(t, dir, port, nil, exe, "-c", file)
}

// withoutLines returns text without the lines whose words drop reports (it never sees an
// empty line): a server started by a user other than root cannot change user or group.
func withoutLines(text []byte, drop func(words []string) bool) []byte {
	var kept []string
	for _, l := range strings.Split(string(text), "\n") {
		if f := strings.Fields(l); len(f) == 0 || !drop(f) {
			kept = append(kept, l)
		}
	}
	return []byte(strings.Join(kept, "\n"))
}

// TestH2ODeployments runs the h2o.conf `appgen config h2o --listen` writes, as it is, in
// front of the app: over TCP, and over a unix socket under /app, where the app must see
// the script name /app and the path below it although h2o 2.2 sends an empty SCRIPT_NAME
// and the whole path as PATH_INFO. h2o serves no document-root files (the guide says so),
// and refuses several backends, which it cannot balance.
func TestH2ODeployments(t *testing.T) {
	testDeployments(t, "h2o", runH2O, func(base, prefix string) matrix {
		return matrix{base: base, prefix: prefix, scriptName: prefix, staticURL: prefix + "/static/", oneBackend: true}
	})
}

// TestH2OSpawn runs the spawned form: h2o starts the app itself (fastcgi.spawn) through
// the launcher `appgen config fcgi` writes, with the listening socket on its standard
// input, and the request matrix passes under a prefix.
func TestH2OSpawn(t *testing.T) {
	webserver.RequireProgram(t, "h2o")
	s := newSite(t)
	port := webserver.FreePort(t)
	o := s.options("h2o", port)
	o.Prefix, o.Spawn = "/app", true
	o.Binary = appBinary(t)
	o.Launcher = filepath.Join(s.dir, "mysite.fcgi")
	launcher, err := deploy.Render(deploy.Options{Target: "fcgi", Name: "mysite", Dir: s.dir, Binary: o.Binary, Launcher: o.Launcher, Settings: "e2e", Prefix: o.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, o.Launcher, string(launcher), 0o755)
	text, err := deploy.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	runH2O(t, s.serverDir(t), port, text)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	m := matrix{base: base, prefix: o.Prefix, scriptName: o.Prefix, staticURL: o.Prefix + "/static/"}
	m.run(t)
	bigPost(t, base, o.Prefix)
}

// TestH2OOtherHosts: with --server-name, a request for another host gets h2o's 404 and
// never reaches the app (h2o hands it to its first host, which has no handler), while the
// named host and a wildcard's subdomain reach the app.
func TestH2OOtherHosts(t *testing.T) {
	webserver.RequireProgram(t, "h2o")
	s := newSite(t)
	port := webserver.FreePort(t)
	o := s.options("h2o", port)
	o.ServerNames = []string{"example.com", "*.example.org"}
	o.Backends = []deploy.Backend{deploy.TCP("127.0.0.1", webserver.FreePort(t))}
	s.runApp(t, "fcgi", o.Backends[0])
	text, err := deploy.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	runH2O(t, s.serverDir(t), port, text)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	for _, c := range []struct {
		host  string
		toApp bool
	}{{"example.com", true}, {"www.example.org", true}, {"other.example.net", false}} {
		t.Run(c.host, func(t *testing.T) {
			r := do(t, "GET", base+"/x", c.host, "")
			if got := r.app["path"] == "/x"; got != c.toApp || !c.toApp && r.status != 404 {
				t.Errorf("Host %s: status %d, reached the app: %v; want the app %v (else 404)", c.host, r.status, got, c.toApp)
			}
		})
	}
}
