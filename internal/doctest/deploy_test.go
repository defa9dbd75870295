package doctest

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// deployGuideNotRun are the blocks of docs/deploy.md that change the system (a user, a
// service, the system's nginx) or need a running systemd, by their first line, with what the test runs instead, as
// the guide says. The nginx block is also where the test starts its own nginx.
var deployGuideNotRun = map[string]string{
	"useradd --system --home-dir \"$SITE_DIR\" --shell /usr/sbin/nologin mysite": "the restart script of the next block starts the same runfcgi command",
	"install -m 0644 mysite.nginx.conf /etc/nginx/sites-available/mysite":        "a throwaway nginx on loopback with mysite.nginx.conf as its site",
	`cd "$SITE_DIR" && go build -o mysite . && systemctl reload mysite`:          "nothing: it needs a running systemd (runtime/runfcgi's notify tests cover the reload)",
}

const deployGuideNginx = "install -m 0644 mysite.nginx.conf /etc/nginx/sites-available/mysite"

// TestDeployGuide follows docs/deploy.md as a new user does (issue 10: the path from the
// README to a production site behind nginx is one sequence that CI runs): its sh blocks, as
// written, in one `sh -e` shell, with only the guide's variables set, then a real nginx in
// front. It checks what the guide promises: the production profile, the secret key of
// mysite.env, a 0660 socket in the web server's group, the page through nginx.
func TestDeployGuide(t *testing.T) {
	webserver.Require(t, webserver.Nginx)
	webserver.RequireProgram(t, "curl")
	if os.Geteuid() != 0 {
		skipOrFail(t, "needs root: runfcgi gives the socket to the group nginx's workers run in (nogroup)")
	}
	web, err := user.LookupGroup("nogroup")
	if err != nil {
		skipOrFail(t, "no group nogroup, the group nginx's workers run in: "+err.Error())
	}

	blocks := guideBlocks(t, "docs/deploy.md", "sh")
	if len(blocks) == 0 || !strings.HasPrefix(blocks[0].First(), "SITE_DIR=") {
		t.Fatal("docs/deploy.md: the first sh block must set the variables, starting with SITE_DIR")
	}
	vars := blocks[0].Text
	var before, after strings.Builder
	script, seen := &before, map[string]bool{}
	for _, b := range blocks[1:] {
		if _, ok := deployGuideNotRun[b.First()]; ok {
			seen[b.First()] = true
			if b.First() == deployGuideNginx {
				script = &after
			}
			continue
		}
		script.WriteString(b.Text)
	}
	for first := range deployGuideNotRun {
		if !seen[first] {
			t.Fatalf("docs/deploy.md has no block starting %q; update deployGuideNotRun", first)
		}
	}
	if after.Len() == 0 {
		t.Fatal("docs/deploy.md shows no check after putting nginx in front")
	}

	tmp := webserver.TempDir(t)
	bin := filepath.Join(tmp, "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "appgen"), ".")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building appgen: %v\n%s", err, out)
	}
	port := webserver.FreePort(t)
	siteDir := filepath.Join(tmp, "mysite")
	runDir := filepath.Join(tmp, "run")
	env := append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"SITE_DIR="+siteDir,
		"LISTEN=127.0.0.1:"+strconv.Itoa(port),
		"RUN_DIR="+runDir,
		"WEB_GROUP="+web.Name,
	)
	// The restart script daemonizes runfcgi; stop it by its pid file, as the guide does.
	t.Cleanup(func() { stopDaemon(t, filepath.Join(siteDir, "mysite.pid")) })
	runScript(t, tmp, env, vars+before.String())

	sock := filepath.Join(runDir, "mysite.sock")
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatalf("after the guide's steps: %v", err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o660 || strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Gid)) != web.Gid {
		t.Errorf("%s: mode %v group %d, want a socket 0660 in %s (%s)", sock, fi.Mode(), fi.Sys().(*syscall.Stat_t).Gid, web.Name, web.Gid)
	}
	envFile := readEnvFile(t, filepath.Join(siteDir, "mysite.env"))
	if fi, err := os.Stat(filepath.Join(siteDir, "mysite.env")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mysite.env: %v, want mode 0600 (%v)", fi.Mode(), err)
	}
	procEnv := daemonEnv(t, filepath.Join(siteDir, "mysite.pid"))
	if procEnv["APPGEN_SETTINGS"] != "production" {
		t.Errorf("the app runs APPGEN_SETTINGS=%q, want production", procEnv["APPGEN_SETTINGS"])
	}
	if key := envFile["APPGEN_SECRET_KEY"]; len(key) < 50 || procEnv["APPGEN_SECRET_KEY"] != key {
		t.Errorf("the app's APPGEN_SECRET_KEY is not the %d-character key of mysite.env", len(key))
	}

	text, err := os.ReadFile(filepath.Join(siteDir, "mysite.nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	inst := webserver.Start(t, webserver.Config{Program: webserver.Nginx, Dir: serverDir(t, tmp), Port: port, Site: string(text)})
	runScript(t, siteDir, env, vars+after.String())

	// The allowed hosts are the production ones: another Host is refused by the app.
	req, _ := http.NewRequest("GET", inst.URL+"/", nil)
	req.Host = "attacker.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET / with Host attacker.example = %d, want 400 (not an allowed host)", resp.StatusCode)
	}
}

// runScript runs text with `sh -e` in dir, failing the test with its output on an error.
func runScript(t *testing.T, dir string, env []string, text string) {
	t.Helper()
	cmd := exec.Command("sh", "-e", "-c", text)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("the guide's steps failed: %v\n--- script\n%s--- output\n%s", err, text, out.String())
	}
	t.Logf("the guide's steps said:\n%s", out.String())
}

// readEnvFile reads NAME=value lines.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			m[k] = v
		}
	}
	return m
}

func pidOf(t *testing.T, pidfile string) int {
	t.Helper()
	b, err := os.ReadFile(pidfile)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		t.Errorf("%s holds %q, not a process id", pidfile, b)
		return 0
	}
	return pid
}

// daemonEnv is the environment the process of pidfile runs with.
func daemonEnv(t *testing.T, pidfile string) map[string]string {
	t.Helper()
	pid := pidOf(t, pidfile)
	if pid == 0 {
		t.Fatalf("no process id in %s", pidfile)
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "environ"))
	if err != nil {
		t.Fatalf("the daemon's environment: %v", err)
	}
	m := map[string]string{}
	for _, kv := range strings.Split(string(b), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// stopDaemon sends SIGTERM to the process of pidfile and waits for it to go.
func stopDaemon(t *testing.T, pidfile string) {
	pid := pidOf(t, pidfile)
	if pid == 0 {
		return
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return
	}
	for i := 0; i < 100; i++ {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
}

func serverDir(t *testing.T, tmp string) string {
	t.Helper()
	d := filepath.Join(tmp, "nginx")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// guideBlocks returns the blocks of the repository file path in language lang.
func guideBlocks(t *testing.T, path, lang string) []Block {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), path))
	if err != nil {
		t.Fatal(err)
	}
	var out []Block
	for _, bl := range Blocks(string(b)) {
		if bl.Lang == lang {
			out = append(out, bl)
		}
	}
	return out
}

// skipOrFail skips, or under CI=true fails: CI must run the real-server tests.
func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; CI=true requires it", msg)
	}
	t.Skip(msg + "; skipping")
}
