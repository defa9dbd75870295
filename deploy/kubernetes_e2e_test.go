package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/appgen/appgen/deploy"
	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// TestKubernetesSidecar runs one pod of the kubernetes target's output on this machine as
// far as it can without a cluster: the nginx site from its ConfigMap in a real nginx, and
// the app container's args and environment as the Deployment writes them, run by a freshly
// generated project's binary on the shared socket, as a non-root user in the group nginx's
// workers run in (the pod's supplementalGroups). Two things are moved for a machine the
// other tests share: nginx's port 8080 and admin='s port 9001 become free ports.
func TestKubernetesSidecar(t *testing.T) {
	webserver.Require(t, webserver.Nginx)
	dir := generatedProject(t)
	sockDir := filepath.Join(webserver.TempDir(t), "run")
	if err := os.Mkdir(sockDir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sockDir, 0o777|os.ModeSticky); err != nil { // an emptyDir every container can write
		t.Fatal(err)
	}
	socket := filepath.Join(sockDir, "mysite.sock")
	docroot := filepath.Join(dir, "public_html")
	if err := os.MkdirAll(docroot, 0o755); err != nil {
		t.Fatal(err)
	}
	o := deploy.Options{Target: "kubernetes", Name: "mysite", Dir: dir, DocumentRoot: docroot, ServerNames: []string{"127.0.0.1"},
		Backends: []deploy.Backend{deploy.Unix(socket)}}
	text, err := deploy.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	m := decodeManifests(t, string(text))
	checkDeployment(t, o, m)
	app := container(t, m.deployment.Spec.Template.Spec, "app")

	port := webserver.FreePort(t)
	site := m.configMap.Data["site.conf"]
	if !strings.Contains(site, `listen "8080";`) {
		t.Fatalf("the site does not listen on 8080:\n%s", site)
	}
	site = strings.Replace(site, `listen "8080";`, `listen "127.0.0.1:`+strconv.Itoa(port)+`";`, 1)
	inst := webserver.Start(t, webserver.Config{Program: webserver.Nginx, Dir: serverDir(t, dir, "nginx"), Port: port, Site: site, DocumentRoot: docroot})

	args := append([]string(nil), app.Args...)
	adminPort := webserver.FreePort(t)
	for i, a := range args {
		if strings.HasPrefix(a, "admin=") {
			args[i] = "admin=127.0.0.1:" + strconv.Itoa(adminPort)
		}
	}
	env := []string{"PATH=/usr/bin:/bin", "APPGEN_SECRET_KEY=k8s-Xq7vR2mK9pL4wT8zN1cY6hB3sD5fJ0gA-uV_iO+tRyWkEa"}
	for _, e := range app.Env {
		if e.ValueFrom == nil {
			env = append(env, e.Name+"="+e.Value)
		}
	}
	cmd := exec.Command(filepath.Join(dir, "mysite"), args...)
	cmd.Dir, cmd.Env = dir, env
	proc := startApp(t, cmd, int(workerGid(t, inst.Pid())))
	proc.waitReady(t, "http://127.0.0.1:"+strconv.Itoa(adminPort)+"/readyz")
	if fi, err := os.Stat(socket); err != nil || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket %v, %v: want mode 0660, as the args say", fi, err)
	}
	css, err := os.ReadFile(filepath.Join(dir, "static", "site.css"))
	if err != nil {
		t.Fatal(err)
	}
	checkGenerated(t, inst.URL, "", string(css))
}

// workerGid is the group nginx's worker processes (children of master) run in. A worker
// starts as root, in root's group, and drops to its user and group a moment after the fork:
// read too early, its status says group 0 (a CI run did, and the app then ran in group 0).
// So with a root master it waits for the worker's uid to leave 0, which nginx changes after
// the group.
func workerGid(t *testing.T, master int) uint32 {
	t.Helper()
	for i := 0; i < 250; i++ {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			status, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
			if err != nil || !strings.Contains(string(status), "\nPPid:\t"+strconv.Itoa(master)+"\n") {
				continue
			}
			uid, gid := -1, -1
			for _, l := range strings.Split(string(status), "\n") {
				f := strings.Fields(l)
				if len(f) < 2 {
					continue
				}
				switch f[0] {
				case "Uid:":
					uid, _ = strconv.Atoi(f[1])
				case "Gid:":
					gid, _ = strconv.Atoi(f[1])
				}
			}
			if gid >= 0 && (uid != 0 || os.Geteuid() != 0) {
				return uint32(gid)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no nginx worker under pid %d that has dropped root", master)
	return 0
}
