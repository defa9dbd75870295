package deploy_test

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/appgen/appgen/deploy"
	"github.com/appgen/appgen/internal/command"
	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// instruction is one Dockerfile instruction as the test reads it: the reader in deploy
// (directives.go) keeps only a summary.
type instruction struct {
	cmd, args string
}

// dockerStages reads a Dockerfile line by line, strictly: '#' lines are comments, no line
// continues (appgen writes none), every instruction is one appgen writes, and stages start
// at FROM ... AS NAME. It returns the instructions of each stage by name, in order.
func dockerStages(t *testing.T, text string) (map[string][]instruction, []string) {
	t.Helper()
	stages := map[string][]instruction{}
	var order []string
	cur := ""
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			t.Fatalf("line %d continues: %q", n+1, line)
		}
		cmd, args, _ := strings.Cut(line, " ")
		switch cmd {
		case "FROM":
			f := strings.Fields(args)
			if len(f) != 3 || f[1] != "AS" || !strings.Contains(f[0], ":") {
				t.Fatalf("line %d: FROM %q, want IMAGE:TAG AS NAME", n+1, args)
			}
			cur = f[2]
			order = append(order, cur)
		case "WORKDIR", "ENV", "COPY", "RUN", "USER", "EXPOSE", "STOPSIGNAL", "ENTRYPOINT", "CMD":
			if cur == "" {
				t.Fatalf("line %d: %s before FROM", n+1, cmd)
			}
		default:
			t.Fatalf("line %d: instruction %q, which appgen never writes", n+1, cmd)
		}
		stages[cur] = append(stages[cur], instruction{cmd, args})
	}
	return stages, order
}

// envAssignments reads ENV KEY=value KEY="value" ... as the Dockerfile reader does for
// the values appgen writes.
func envAssignments(t *testing.T, args string) [][2]string {
	t.Helper()
	var out [][2]string
	for args != "" {
		k, rest, ok := strings.Cut(args, "=")
		if !ok {
			t.Fatalf("ENV %q: want KEY=value", args)
		}
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := 1
			for ; end < len(rest) && rest[end] != '"'; end++ {
				if rest[end] == '\\' {
					end++
				}
			}
			v = strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`).Replace(rest[1:end])
			rest = rest[end+1:]
		} else {
			v, rest, _ = strings.Cut(rest, " ")
		}
		out = append(out, [2]string{k, v})
		args = strings.TrimSpace(rest)
	}
	return out
}

// copyContext copies the project into dst as `docker build` sends it: without what the
// ignore file's patterns match (each path and each of its parents is matched).
func copyContext(t *testing.T, src, dst, ignore string) {
	t.Helper()
	var patterns []string
	for _, l := range strings.Split(ignore, "\n") {
		if l = strings.TrimSpace(l); l != "" && l[0] != '#' {
			if strings.HasPrefix(l, "!") {
				t.Fatalf("ignore file exception %q: appgen writes none", l)
			}
			patterns = append(patterns, l)
		}
	}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "." {
			return os.MkdirAll(dst, 0o755)
		}
		for _, pat := range patterns {
			if ok, _ := filepath.Match(pat, rel); ok {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		return os.WriteFile(target, data, info.Mode().Perm()|0o444)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDockerfileBuildsOffline runs the Dockerfile of a freshly generated project as far as
// anything can without a Docker engine (none runs here, so `docker build` itself is not
// run): the build context is the project less what .dockerignore leaves out, the
// build stage's ENV and RUN lines run as written in it with an empty module cache and no
// network (GOPROXY=off), the binary comes out static, and the final stage's ENTRYPOINT and
// CMD run it as a non-root user (65532 when the test runs as root) with the environment a
// `docker run --env-file` gives, behind a real nginx speaking FastCGI to it over TCP.
func TestDockerfileBuildsOffline(t *testing.T) {
	webserver.Require(t, webserver.Nginx)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	base := webserver.TempDir(t)
	project := filepath.Join(base, "mysite")
	var stdout, stderr bytes.Buffer
	if status := command.Execute(command.Build{Version: "e2e"}, os.DirFS(filepath.Join(root, "runtime")),
		[]string{"appgen", "startproject", "mysite", project}, &stdout, &stderr); status != 0 {
		t.Fatalf("appgen startproject: status %d\n%s%s", status, stdout.String(), stderr.String())
	}
	// The secrets file a deployment keeps beside the project: it must not reach the build.
	env := "APPGEN_SECRET_KEY=docker-Xq7vR2mK9pL4wT8zN1cY6hB3sD5fJ0gA-uV_iO+tRyWkEa\nAPPGEN_ALLOWED_HOSTS=127.0.0.1\n"
	writeFile(t, filepath.Join(project, "mysite.env"), env, 0o600)

	port := webserver.FreePort(t)
	p, err := deploy.ReadProject(project)
	if err != nil {
		t.Fatal(err)
	}
	o := p.Options("docker")
	o.Dir = "/srv/mysite"
	o.StaticRoot = "static"
	o.Backends = []deploy.Backend{deploy.TCP("127.0.0.1", port)}
	dockerfile, err := deploy.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	ignoreOpts, _ := deploy.Companion(o)
	ignore, err := deploy.Render(ignoreOpts)
	if err != nil {
		t.Fatal(err)
	}
	stages, order := dockerStages(t, string(dockerfile))
	if len(order) != 3 || order[0] != "build" || order[len(order)-1] != "app" {
		t.Fatalf("stages %q, want build, web and app last (the default target)", order)
	}

	// The build stage, run as written in a copy of the context.
	ctx := filepath.Join(base, "context")
	copyContext(t, project, ctx, string(ignore))
	if _, err := os.Stat(filepath.Join(ctx, "mysite.env")); err == nil {
		t.Fatal("mysite.env, which holds the secret key, is in the build context")
	}
	if _, err := os.Stat(filepath.Join(ctx, "vendor", "modules.txt")); err != nil {
		t.Fatalf("the vendored runtime is not in the build context: %v", err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	gocache, _ := exec.Command(goBin, "env", "GOCACHE").Output()
	buildEnv := []string{"PATH=" + filepath.Dir(goBin) + ":/usr/bin:/bin", "HOME=" + base,
		"GOPATH=" + filepath.Join(base, "gopath"), "GOMODCACHE=" + filepath.Join(base, "empty-modcache"),
		"GOCACHE=" + strings.TrimSpace(string(gocache)), "GONOSUMDB=", "GOENV=off"}
	ran := 0
	for _, in := range stages["build"] {
		switch in.cmd {
		case "FROM":
		case "WORKDIR":
			if in.args != "/src" {
				t.Fatalf("build WORKDIR %q, want /src", in.args)
			}
		case "COPY":
			if in.args != ". ." {
				t.Fatalf("build COPY %q, want the context", in.args)
			}
		case "ENV":
			for _, kv := range envAssignments(t, in.args) {
				buildEnv = append(buildEnv, kv[0]+"="+kv[1])
			}
		case "RUN":
			cmd := exec.Command("/bin/sh", "-c", in.args)
			cmd.Dir, cmd.Env = ctx, buildEnv
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("RUN %s: %v\n%s", in.args, err, out)
			}
			ran++
		default:
			t.Fatalf("build stage: unexpected %s %s", in.cmd, in.args)
		}
	}
	if ran == 0 {
		t.Fatal("the build stage runs nothing")
	}
	if entries, _ := os.ReadDir(filepath.Join(base, "empty-modcache")); len(entries) != 0 {
		t.Errorf("the build filled the module cache: %v", entries)
	}
	binary := filepath.Join(ctx, "mysite")
	f, err := elf.Open(binary)
	if err != nil {
		t.Fatal(err)
	}
	libs, _ := f.ImportedLibraries()
	interp := f.Section(".interp")
	f.Close()
	if len(libs) > 0 || interp != nil {
		t.Errorf("the binary is not static: libraries %q, interpreter %v", libs, interp != nil)
	}

	// The final stage: numeric non-root user, no secret, the binary where ENTRYPOINT says.
	var entry, args []string
	runEnv := []string{"PATH=/usr/local/bin:/usr/bin:/bin"}
	for _, in := range stages["app"] {
		switch in.cmd {
		case "USER":
			uid, _, _ := strings.Cut(in.args, ":")
			if n, err := strconv.Atoi(uid); err != nil || n == 0 {
				t.Errorf("USER %q, want a numeric non-root user", in.args)
			}
		case "ENV":
			for _, kv := range envAssignments(t, in.args) {
				if strings.Contains(kv[0], "SECRET") || strings.Contains(kv[0], "KEY") {
					t.Errorf("ENV %s in the image: secrets come from the environment at run time", kv[0])
				}
				runEnv = append(runEnv, kv[0]+"="+kv[1])
			}
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(in.args), &entry); err != nil {
				t.Fatalf("ENTRYPOINT %s: %v", in.args, err)
			}
		case "CMD":
			if err := json.Unmarshal([]byte(in.args), &args); err != nil {
				t.Fatalf("CMD %s: %v", in.args, err)
			}
		case "COPY":
			if in.args != "--from=build /src/mysite /srv/mysite/mysite" {
				t.Errorf("app COPY %q, want the built binary at the entry point", in.args)
			}
		}
	}
	if len(entry) != 1 || entry[0] != "/srv/mysite/mysite" {
		t.Fatalf("ENTRYPOINT %q", entry)
	}
	// As `docker run --env-file mysite.env` passes it.
	for _, l := range strings.Split(strings.TrimSpace(env), "\n") {
		runEnv = append(runEnv, l)
	}
	// admin= is a fixed port in the image; here other tests share the loopback, so only its
	// port is moved to a free one.
	adminPort := webserver.FreePort(t)
	for i, a := range args {
		if strings.HasPrefix(a, "admin=") {
			args[i] = "admin=127.0.0.1:" + strconv.Itoa(adminPort)
		}
	}
	cmd := exec.Command(binary, args...)
	cmd.Dir, cmd.Env = ctx, runEnv
	app := startApp(t, cmd, 65532)
	admin := "http://127.0.0.1:" + strconv.Itoa(adminPort)
	app.waitReady(t, admin+"/readyz")
	if r := do(t, "GET", admin+"/healthz", "", ""); r.status != 200 {
		t.Errorf("GET /healthz = %d", r.status)
	}

	// A real nginx in front, speaking FastCGI to the container's port.
	css, err := os.ReadFile(filepath.Join(project, "static", "site.css"))
	if err != nil {
		t.Fatal(err)
	}
	docroot := filepath.Join(base, "public_html")
	if err := os.MkdirAll(docroot, 0o755); err != nil {
		t.Fatal(err)
	}
	nginxPort := webserver.FreePort(t)
	site, err := deploy.Render(deploy.Options{Target: "nginx", Name: "mysite", Dir: ctx, DocumentRoot: docroot,
		StaticRoot: filepath.Join(ctx, "static"), Listen: "127.0.0.1:" + strconv.Itoa(nginxPort),
		Backends: []deploy.Backend{deploy.TCP("127.0.0.1", port)}})
	if err != nil {
		t.Fatal(err)
	}
	inst := webserver.Start(t, webserver.Config{Program: webserver.Nginx, Dir: serverDir(t, base, "nginx"), Port: nginxPort, Site: string(site), DocumentRoot: docroot})
	checkGenerated(t, inst.URL, "", string(css))

	// STOPSIGNAL SIGTERM drains and exits 0.
	app.stop(t, "the app")

	// --protocol http: the same binary runs the http image's CMD, and its --admin listener
	// answers the probes until SIGTERM drains it.
	o.Protocol, o.Backends = "http", nil
	httpFile, err := deploy.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	httpStages, _ := dockerStages(t, string(httpFile))
	var httpArgs []string
	for _, in := range httpStages["app"] {
		if in.cmd == "CMD" {
			if err := json.Unmarshal([]byte(in.args), &httpArgs); err != nil {
				t.Fatalf("http CMD %s: %v", in.args, err)
			}
		}
	}
	// Both ports are fixed in the image; here they move to free ones on loopback.
	sitePort, httpAdminPort := webserver.FreePort(t), webserver.FreePort(t)
	moved := map[string]string{
		"0.0.0.0:8000": "127.0.0.1:" + strconv.Itoa(sitePort),
		"0.0.0.0:" + strconv.Itoa(deploy.AdminPort): "127.0.0.1:" + strconv.Itoa(httpAdminPort),
	}
	for i, a := range httpArgs {
		if v, ok := moved[a]; ok {
			httpArgs[i] = v
			delete(moved, a)
		}
	}
	if len(moved) != 0 {
		t.Fatalf("http CMD %q: no site address 0.0.0.0:8000 or admin address", httpArgs)
	}
	hcmd := exec.Command(binary, httpArgs...)
	hcmd.Dir, hcmd.Env = ctx, runEnv
	happ := startApp(t, hcmd, -1)
	hadmin := "http://127.0.0.1:" + strconv.Itoa(httpAdminPort)
	happ.waitReady(t, hadmin+"/readyz")
	if r := do(t, "GET", "http://127.0.0.1:"+strconv.Itoa(sitePort)+"/", "127.0.0.1", ""); r.status != 200 {
		t.Errorf("http CMD: GET / = %d, want 200", r.status)
	}
	if r := do(t, "GET", hadmin+"/metrics", "", ""); r.status != 200 || !strings.Contains(r.body, "appgen_requests_total 1\n") {
		t.Errorf("http CMD: GET /metrics = %d, want the site's request counted:\n%s", r.status, r.body)
	}
	happ.stop(t, "the http CMD")
}

// appProcess is the app started as a container runs it, its output kept for failures; it is
// killed when the test ends.
type appProcess struct {
	cmd  *exec.Cmd
	done chan error
	mu   sync.Mutex
	out  strings.Builder
}

// startApp starts cmd. With gid >= 0, and the tests running as root, it runs as uid 65532
// (the images' non-root user) in group gid.
func startApp(t *testing.T, cmd *exec.Cmd, gid int) *appProcess {
	t.Helper()
	p := &appProcess{cmd: cmd, done: make(chan error, 1)}
	if gid >= 0 && os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: uint32(gid)}}
	}
	cmd.Stdout, cmd.Stderr = lockedWriter{&p.mu, &p.out}, lockedWriter{&p.mu, &p.out}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
		}
	})
	return p
}

// waitReady waits until url answers 200, failing if the app exits first.
func (p *appProcess) waitReady(t *testing.T, url string) {
	t.Helper()
	waitHTTP(t, url, p.done, &p.out, &p.mu)
}

// stop sends SIGTERM, as a container's stop does, and checks that the app drains and exits 0.
func (p *appProcess) stop(t *testing.T, what string) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			p.mu.Lock()
			t.Errorf("%s after SIGTERM: %v\n%s", what, err, p.out.String())
			p.mu.Unlock()
		}
	case <-time.After(10 * time.Second):
		t.Errorf("%s still running 10 s after SIGTERM", what)
	}
}

// waitHTTP waits until url answers 200, failing if the process exits first.
func waitHTTP(t *testing.T, url string, done <-chan error, out *strings.Builder, mu *sync.Mutex) {
	t.Helper()
	for i := 0; ; i++ {
		resp, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-done:
			mu.Lock()
			t.Fatalf("the app exited (%v):\n%s", err, out.String())
		default:
		}
		if i == 500 {
			mu.Lock()
			t.Fatalf("%s never answered 200 (%v):\n%s", url, err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
