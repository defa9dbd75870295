package deploy_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appgen/appgen/deploy"
	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// TestSocketDeploymentSeparateUsers runs what the plain systemd unit (--no-socket-unit) runs, as the unit
// runs it (issue 10's "run as its own user" and "unix socket daemon", issue 14's trust
// boundary): the app as its own throwaway system user with the web server's group as a
// supplementary group, its socket in a directory of its own (what RuntimeDirectory= makes),
// and nginx, from `appgen config nginx`, whose workers run as another user (nobody, in the
// web group nogroup) and reach the app through the socket's group. A third user, in neither
// group, cannot connect. It needs root (to create the user and change credentials).
func TestSocketDeploymentSeparateUsers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: it creates a throwaway system user and runs the app as it")
	}
	webserver.Require(t, webserver.Nginx)
	useradd := webserver.RequireProgram(t, "useradd")
	userdel := webserver.RequireProgram(t, "userdel")
	web, err := user.LookupGroup("nogroup")
	if err != nil {
		t.Skipf("no group nogroup, the group nginx's workers run in: %v", err)
	}
	app := appBinary(t)
	if help, _ := exec.Command(app, "runfcgi", "help").CombinedOutput(); !strings.Contains(string(help), "socket_group") {
		t.Skip("this runfcgi has no socket_group= key yet (runtime/runfcgi from before it)")
	}

	name := fmt.Sprintf("agt%d", os.Getpid()%1000000)
	if out, err := exec.Command(useradd, "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(userdel, name).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v\n%s", name, err, out)
		}
	})
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	webGid, _ := strconv.Atoi(web.Gid)

	s := newSite(t)
	sock := socketDir(t, s)
	// What RuntimeDirectory= with RuntimeDirectoryMode=0755 makes: owned by the site's user.
	if err := os.Chown(filepath.Dir(sock), uid, gid); err != nil {
		t.Fatal(err)
	}
	o := deploy.Options{Target: "systemd", Name: "mysite", Dir: s.dir, Backends: []deploy.Backend{deploy.Unix(sock)},
		User: name, WebGroup: "nogroup", Settings: "e2e", Version: "e2e", NoSocketUnit: true}
	unit, err := deploy.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	settings := unitSettings(t, string(unit))
	for key, want := range map[string]string{"User": name, "Group": name, "SupplementaryGroups": "nogroup"} {
		if settings[key] != want {
			t.Errorf("unit %s=%q, want %q", key, settings[key], want)
		}
	}
	args := systemdSplit(t, settings["ExecStart"])
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = s.dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "APPGEN_SETTINGS=e2e"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{uint32(webGid)}}}
	fi := startForSocket(t, cmd, sock, "the app")
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm() != 0o660 || int(st.Uid) != uid || int(st.Gid) != webGid {
		t.Errorf("socket %v owned by %d:%d, want -rw-rw---- owned by %d (%s), group %d (nogroup)", fi.Mode(), st.Uid, st.Gid, uid, name, webGid)
	}

	inst := s.nginxInFront(t, sock, "nogroup")
	if r := do(t, "GET", inst.URL+"/x", "", ""); r.status != 200 || r.app["pid"] == "" {
		t.Errorf("GET /x through nginx (workers as nobody:nogroup): status %d, app %v; want the app", r.status, r.app)
	}

	// Another local user, in neither the site's group nor the web server's, is refused:
	// on TCP it could speak FastCGI and claim any REMOTE_ADDR or HTTPS.
	if err := dialAs(sock, 1, 1); !errors.Is(err, syscall.EACCES) {
		t.Errorf("connecting as uid 1 (daemon): %v, want permission denied", err)
	}
}

// socketDir makes the directory the app's socket lives in (what RuntimeDirectory= or the
// socket unit's directory is under systemd) and returns the socket's path in it.
func socketDir(t *testing.T, s *site) string {
	t.Helper()
	dir := filepath.Join(s.dir, "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "mysite.sock")
}

// startForSocket starts cmd, stops it when the test ends, and waits up to 5 s for the
// socket sock to appear. Its output goes to cmd.Stdout, a *strings.Builder made here unless
// the caller set one to read, and is logged as what said it when the test failed.
func startForSocket(t *testing.T, cmd *exec.Cmd, sock, what string) os.FileInfo {
	t.Helper()
	if cmd.Stdout == nil {
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		stop(cmd, done)
		if t.Failed() {
			t.Logf("%s said:\n%s", what, cmd.Stdout)
		}
	})
	for i := 0; ; i++ {
		fi, err := os.Stat(sock)
		if err == nil {
			return fi
		}
		if i == 250 {
			t.Fatalf("no socket %s after 5 s: %v\n%s", sock, err, cmd.Stdout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// nginxInFront starts nginx with the site `appgen config nginx` writes for the app on the
// unix socket sock, created in webGroup.
func (s *site) nginxInFront(t *testing.T, sock, webGroup string) *webserver.Instance {
	t.Helper()
	port := webserver.FreePort(t)
	o := s.options("nginx", port)
	o.Backends, o.WebGroup = []deploy.Backend{deploy.Unix(sock)}, webGroup
	conf, err := deploy.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	return webserver.Start(t, webserver.Config{Program: webserver.Nginx, Dir: s.serverDir(t), Port: port, Site: string(conf), DocumentRoot: s.docroot})
}

// dialAs connects to a unix socket with the file system credentials of uid and gid (and no
// supplementary groups beyond root's own): Linux checks connect()'s permission against the
// thread's fsuid and fsgid, and leaving fsuid 0 drops the capability to override it.
func dialAs(path string, uid, gid int) error {
	setfs := func(call uintptr, id int) int {
		r, _, _ := syscall.RawSyscall(call, uintptr(id), 0, 0)
		return int(r)
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		setfs(syscall.SYS_SETFSGID, gid)
		setfs(syscall.SYS_SETFSUID, uid)
		c, err := net.Dial("unix", path)
		if err == nil {
			c.Close()
		}
		setfs(syscall.SYS_SETFSUID, 0)
		setfs(syscall.SYS_SETFSGID, 0)
		// -1 changes nothing and returns the current value. A thread whose identity could
		// not be restored stays locked, and ends with this goroutine.
		if setfs(syscall.SYS_SETFSUID, -1) == 0 && setfs(syscall.SYS_SETFSGID, -1) == 0 {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// unitSettings returns the last value of each Key= in a unit (comments skipped).
func unitSettings(t *testing.T, unit string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(unit, "\n") {
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("unit line %q", line)
		}
		m[k] = v
	}
	return m
}

// systemdSplit splits an ExecStart= value as systemd does for the quoting appgen writes:
// words at spaces, "..." quotes with \" and \\ escapes, %% and $$ for % and $.
func systemdSplit(t *testing.T, v string) []string {
	t.Helper()
	var words []string
	for i := 0; i < len(v); {
		for i < len(v) && v[i] == ' ' {
			i++
		}
		if i >= len(v) {
			break
		}
		var w strings.Builder
		quoted := false
		for ; i < len(v) && (quoted || v[i] != ' '); i++ {
			switch c := v[i]; {
			case c == '"':
				quoted = !quoted
			case c == '\\' && i+1 < len(v):
				i++
				w.WriteByte(v[i])
			case (c == '%' || c == '$') && i+1 < len(v) && v[i+1] == c:
				i++
				w.WriteByte(c)
			default:
				w.WriteByte(c)
			}
		}
		words = append(words, w.String())
	}
	if len(words) == 0 {
		t.Fatalf("empty ExecStart")
	}
	return words
}

// TestSocketActivation runs the default systemd deployment as systemd would: the socket
// unit's ListenStream=, SocketMode=, SocketGroup= and FileDescriptorName= made by
// systemd-socket-activate (systemd's own tool for socket activation), which starts the
// service's ExecStart= line on the first connection with the socket passed (LISTEN_FDS);
// nginx, from `appgen config nginx`, in front. The ExecStart line names no socket: the page
// is served only if runfcgi took the one systemd passed. It needs no root; as root, nginx's
// workers run as nobody:nogroup and reach the app through SocketGroup=.
func TestSocketActivation(t *testing.T) {
	webserver.Require(t, webserver.Nginx)
	activate := webserver.RequireProgram(t, "systemd-socket-activate")
	s := newSite(t)
	sock := socketDir(t, s)
	web := "nogroup"
	if _, err := user.LookupGroup(web); err != nil {
		t.Skipf("no group nogroup, the group nginx's workers run in: %v", err)
	}
	o := deploy.Options{Target: "systemd", Name: "mysite", Dir: s.dir, Backends: []deploy.Backend{deploy.Unix(sock)},
		WebGroup: web, Settings: "e2e", Version: "e2e"}
	service, err := deploy.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	so, ok := deploy.Companion(o)
	if !ok || so.Target != "systemd-socket" {
		t.Fatalf("Companion(systemd) = %v, %v; want the systemd-socket target", so.Target, ok)
	}
	socketUnit, err := deploy.Render(so)
	if err != nil {
		t.Fatal(err)
	}
	svc, skt := unitSettings(t, string(service)), unitSettings(t, string(socketUnit))
	for key, want := range map[string]string{"Requires": "mysite.socket", "After": "mysite.socket network.target"} {
		if svc[key] != want {
			t.Errorf("service %s=%q, want %q", key, svc[key], want)
		}
	}
	for _, key := range []string{"RuntimeDirectory", "SupplementaryGroups"} {
		if v, ok := svc[key]; ok {
			t.Errorf("service %s=%q: with a socket unit systemd holds the socket (a RuntimeDirectory= would be removed with it at each stop)", key, v)
		}
	}
	for key, want := range map[string]string{"ListenStream": sock, "SocketUser": "mysite", "SocketGroup": web, "SocketMode": "0660", "FileDescriptorName": "mysite"} {
		if skt[key] != want {
			t.Errorf("socket unit %s=%q, want %q", key, skt[key], want)
		}
	}
	args := systemdSplit(t, svc["ExecStart"])
	for _, a := range args {
		if strings.HasPrefix(a, "socket=") || strings.HasPrefix(a, "host=") || strings.HasPrefix(a, "method=") {
			t.Errorf("ExecStart passes %s: the socket comes from systemd and the model is runfcgi's default", a)
		}
	}

	activateArgs := []string{"--listen=" + skt["ListenStream"], "--fdname=" + skt["FileDescriptorName"], "--setenv=APPGEN_SETTINGS=e2e", "--setenv=PATH=/usr/bin:/bin"}
	cmd := exec.Command(activate, append(activateArgs, args...)...)
	cmd.Dir = s.dir
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	startForSocket(t, cmd, sock, "systemd-socket-activate and the app")
	// What SocketMode= and SocketGroup= make systemd do to the socket it creates.
	mode, err := strconv.ParseUint(skt["SocketMode"], 8, 32)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := user.LookupGroup(skt["SocketGroup"])
	gid, _ := strconv.Atoi(g.Gid)
	if err := os.Chown(sock, -1, gid); err != nil && os.Geteuid() == 0 {
		t.Fatal(err)
	}
	if err := os.Chmod(sock, os.FileMode(mode)); err != nil {
		t.Fatal(err)
	}

	inst := s.nginxInFront(t, sock, web)
	for _, path := range []string{"/x", "/y"} {
		if r := do(t, "GET", inst.URL+path, "", ""); r.status != 200 || r.app["pid"] == "" {
			t.Errorf("GET %s through nginx to the activated app: status %d, app %v; want the app", path, r.status, r.app)
		}
	}
	// systemd-socket-activate started the app on nginx's first connection: the socket existed
	// before the app did, as it does under systemd.
	if !strings.Contains(out.String(), "Execing "+args[0]) {
		t.Errorf("systemd-socket-activate did not start the app:\n%s", out)
	}
}
