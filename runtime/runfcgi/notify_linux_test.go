package runfcgi

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeSystemd is the receiving end of NOTIFY_SOCKET, read as systemd reads
// it: each datagram with its sender's credentials (SO_PASSCRED), which is
// how systemd knows who sent MAINPID=.
type fakeSystemd struct {
	t    *testing.T
	conn *net.UnixConn
	msgs chan notifyMsg
}

type notifyMsg struct {
	pid    int // the sender, from its credentials
	fields map[string]string
	raw    string
}

func listenNotify(t *testing.T, name string) *fakeSystemd {
	t.Helper()
	s := bindNotify(t, name)
	go func() {
		for {
			m, err := s.read()
			if err != nil {
				close(s.msgs)
				return
			}
			s.msgs <- m
		}
	}()
	return s
}

// bindNotify makes the socket without reading it: read reads it.
func bindNotify(t *testing.T, name string) *fakeSystemd {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	rc, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_PASSCRED, 1)
	}); err != nil || serr != nil {
		t.Fatalf("SO_PASSCRED: %v %v", err, serr)
	}
	return &fakeSystemd{t: t, conn: conn, msgs: make(chan notifyMsg, 64)}
}

// read reads one datagram with its sender's pid.
func (s *fakeSystemd) read() (notifyMsg, error) {
	buf := make([]byte, 4096)
	oob := make([]byte, syscall.CmsgSpace(syscall.SizeofUcred))
	n, oobn, _, _, err := s.conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return notifyMsg{}, err
	}
	return parseNotify(buf[:n], oob[:oobn]), nil
}

// readQueued reads a datagram already queued, without waiting for one
// (MSG_DONTWAIT: Go's deadlines would not even look).
func (s *fakeSystemd) readQueued() (notifyMsg, error) {
	rc, err := s.conn.SyscallConn()
	if err != nil {
		return notifyMsg{}, err
	}
	buf := make([]byte, 4096)
	oob := make([]byte, syscall.CmsgSpace(syscall.SizeofUcred))
	var n, oobn int
	var rerr error
	if err := rc.Control(func(fd uintptr) {
		n, oobn, _, _, rerr = syscall.Recvmsg(int(fd), buf, oob, syscall.MSG_DONTWAIT)
	}); err != nil {
		return notifyMsg{}, err
	}
	if rerr != nil {
		return notifyMsg{}, rerr
	}
	return parseNotify(buf[:n], oob[:oobn]), nil
}

func parseNotify(data, oob []byte) notifyMsg {
	m := notifyMsg{raw: string(data), fields: map[string]string{}}
	if cmsgs, err := syscall.ParseSocketControlMessage(oob); err == nil && len(cmsgs) > 0 {
		if cred, err := syscall.ParseUnixCredentials(&cmsgs[0]); err == nil {
			m.pid = int(cred.Pid)
		}
	}
	for _, line := range strings.Split(strings.TrimSuffix(m.raw, "\n"), "\n") {
		k, v, _ := strings.Cut(line, "=")
		m.fields[k] = v
	}
	return m
}

// next returns the next datagram. The limit only keeps a broken helper from
// hanging the test.
func (s *fakeSystemd) next(p *proc) notifyMsg {
	s.t.Helper()
	select {
	case m := <-s.msgs:
		return m
	case <-time.After(30 * time.Second):
		s.t.Fatalf("no notification within 30s; stderr:\n%s", p.stderr())
	}
	return notifyMsg{}
}

// expect reads the next datagram and checks that pid sent it with key=1.
func (s *fakeSystemd) expect(p *proc, key string, pid int) notifyMsg {
	s.t.Helper()
	m := s.next(p)
	if m.fields[key] != "1" {
		s.t.Fatalf("notification %q, want %s=1; stderr:\n%s", m.raw, key, p.stderr())
	}
	if m.pid != pid {
		s.t.Fatalf("notification %q sent by pid %d, want %d", m.raw, m.pid, pid)
	}
	if m.fields["STATUS"] == "" {
		s.t.Errorf("notification %q has no STATUS=", m.raw)
	}
	return m
}

// quiet checks that nothing more arrives for a moment.
func (s *fakeSystemd) quiet() {
	s.t.Helper()
	select {
	case m, ok := <-s.msgs:
		if ok {
			s.t.Errorf("unexpected notification %q from pid %d", m.raw, m.pid)
		}
	case <-time.After(300 * time.Millisecond):
	}
}

// Issue 11: under systemd a threaded SIGHUP's successor is a new process, and
// systemd must follow it as the main process (MAINPID=, sent by the
// successor once it serves and before the old one drains) or it would take
// the old one's exit for the service's. The socket stands in for systemd,
// at a path and at an abstract name.
func TestNotifyThreadedSIGHUP(t *testing.T) {
	for _, tt := range []struct{ name, addr string }{
		{"path", "notify"},
		{"abstract", fmt.Sprintf("@appgen-runfcgi-test-%d", os.Getpid())},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := tempDir(t)
			addr := tt.addr
			if !strings.HasPrefix(addr, "@") {
				addr = filepath.Join(dir, addr)
			}
			systemd := listenNotify(t, addr)
			work := filepath.Join(dir, "work")
			if err := os.Mkdir(work, 0o755); err != nil {
				t.Fatal(err)
			}
			pidfile := filepath.Join(dir, "h.pid")
			cmd := helper(t, dir, "method=threaded", "socket="+filepath.Join(dir, "h.sock"), "daemonize=false", "pidfile="+pidfile, "workdir="+work)
			cmd.Env = append(cmd.Env, notifySocketEnv+"="+addr)
			p := start(t, cmd)
			old := p.cmd.Process.Pid

			m := systemd.expect(p, "READY", old)
			if m.fields["MAINPID"] != strconv.Itoa(old) || !strings.Contains(m.fields["STATUS"], "serving fcgi") {
				t.Errorf("first notification %q, want MAINPID=%d and a serving STATUS", m.raw, old)
			}

			// A successor that fails to start: systemd hears the reload end,
			// with the old process still the main one.
			if err := os.Rename(work, work+".away"); err != nil {
				t.Fatal(err)
			}
			p.signal(syscall.SIGHUP)
			systemd.expect(p, "RELOADING", old)
			m = systemd.expect(p, "READY", old)
			if m.fields["MAINPID"] != strconv.Itoa(old) || !strings.Contains(m.fields["STATUS"], "the old process goes on serving") {
				t.Errorf("after a failed reload: %q, want MAINPID=%d and why", m.raw, old)
			}
			if err := os.Rename(work+".away", work); err != nil {
				t.Fatal(err)
			}

			before, _ := monotonicUsec()
			p.signal(syscall.SIGHUP)
			m = systemd.expect(p, "RELOADING", old)
			after, _ := monotonicUsec()
			if usec, err := strconv.ParseInt(m.fields["MONOTONIC_USEC"], 10, 64); err != nil || usec < before || usec > after {
				t.Errorf("RELOADING with MONOTONIC_USEC=%q, want CLOCK_MONOTONIC between %d and %d", m.fields["MONOTONIC_USEC"], before, after)
			}
			m = systemd.next(p)
			if m.fields["READY"] != "1" || m.pid == old {
				t.Fatalf("after the reload: %q from pid %d, want READY=1 from the successor", m.raw, m.pid)
			}
			next := m.pid
			t.Cleanup(func() { syscall.Kill(next, syscall.SIGKILL) })
			if m.fields["MAINPID"] != strconv.Itoa(next) {
				t.Errorf("the successor (pid %d) said %q, want MAINPID=%d", next, m.raw, next)
			}
			// The old process drains and exits without a word: STOPPING=1
			// from it would stop the service.
			var ws syscall.WaitStatus
			if _, err := syscall.Wait4(old, &ws, 0, nil); err != nil {
				t.Fatal(err)
			}
			if !ws.Exited() || ws.ExitStatus() != 0 {
				t.Errorf("old process ended with %v; stderr:\n%s", ws, p.stderr())
			}
			systemd.quiet()
			if pid := readPID(t, pidfile); pid != next {
				t.Errorf("pidfile names %d, want the successor %d", pid, next)
			}
			if err := syscall.Kill(next, syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			systemd.expect(p, "STOPPING", next)
			for i := 0; i < 3000 && !processGone(next); i++ {
				time.Sleep(10 * time.Millisecond)
			}
			systemd.quiet()
		})
	}
}

// Prefork's master stays the main process: it is ready once its workers
// serve, reloads on SIGHUP until the new generation serves, and no worker
// ever speaks to systemd.
func TestNotifyPrefork(t *testing.T) {
	dir := tempDir(t)
	addr := filepath.Join(dir, "notify")
	systemd := listenNotify(t, addr)
	cmd := helper(t, dir, "method=prefork", "socket="+filepath.Join(dir, "h.sock"), "daemonize=false", "minspare=1", "maxspare=1", "maxchildren=2")
	cmd.Env = append(cmd.Env, notifySocketEnv+"="+addr)
	p := start(t, cmd)
	master := p.cmd.Process.Pid

	m := systemd.expect(p, "READY", master)
	if m.fields["MAINPID"] != strconv.Itoa(master) || !strings.Contains(m.fields["STATUS"], "generation 0") {
		t.Errorf("first notification %q, want MAINPID=%d and generation 0 serving", m.raw, master)
	}
	p.signal(syscall.SIGHUP)
	systemd.expect(p, "RELOADING", master)
	m = systemd.expect(p, "READY", master)
	if !strings.Contains(m.fields["STATUS"], "generation 1") {
		t.Errorf("after SIGHUP: %q, want generation 1 serving", m.raw)
	}
	p.signal(syscall.SIGTERM)
	systemd.expect(p, "STOPPING", master)
	if status := p.wait(); status != 0 {
		t.Errorf("master exited %d; stderr:\n%s", status, p.stderr())
	}
	systemd.quiet()
}

func TestNotifyAddr(t *testing.T) {
	for _, tt := range []struct {
		value string
		ok    bool
	}{
		{"/run/systemd/notify", true},
		{"@/org/freedesktop/systemd1/notify/123", true},
		{"@x", true},
		{"@", false},
		{"/", false},
		{"run/notify", false},
		{"vsock:2:1234", false},
	} {
		t.Run(tt.value, func(t *testing.T) {
			a, err := notifyAddr(tt.value)
			if (err == nil) != tt.ok {
				t.Fatalf("notifyAddr(%q) = %v, %v; want ok %v", tt.value, a, err, tt.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "NOTIFY_SOCKET=") {
				t.Errorf("error %q does not name NOTIFY_SOCKET", err)
			}
			if err == nil && a.Name != tt.value {
				t.Errorf("notifyAddr(%q) = %q", tt.value, a.Name)
			}
		})
	}
}

// Without NOTIFY_SOCKET there is no notifier, and a nil one sends nothing;
// with it, it is taken out of the environment, so that the programs the
// site runs cannot speak for the service.
func TestTakeNotifier(t *testing.T) {
	t.Setenv(notifySocketEnv, "")
	n, err := takeNotifier()
	if n != nil || err != nil {
		t.Fatalf("takeNotifier() = %v, %v; want nil, nil", n, err)
	}
	if err := n.send("READY=1"); err != nil {
		t.Errorf("nil notifier: %v", err)
	}
	t.Setenv(notifySocketEnv, "/run/systemd/notify")
	n, err = takeNotifier()
	if n == nil || err != nil || n.env != "/run/systemd/notify" {
		t.Fatalf("takeNotifier() = %v, %v; want the socket", n, err)
	}
	if v, set := os.LookupEnv(notifySocketEnv); set {
		t.Errorf("%s=%q left in the environment", notifySocketEnv, v)
	}
	t.Setenv(notifySocketEnv, "relative")
	if n, err = takeNotifier(); n != nil || err == nil {
		t.Errorf("takeNotifier() with %s=relative = %v, %v; want an error", notifySocketEnv, n, err)
	}
}

func TestStatusLine(t *testing.T) {
	got := statusLine("SIGHUP: the new process failed: runfcgi: workdir=/x:\n  no such directory\r\n")
	if want := "STATUS=SIGHUP: the new process failed: runfcgi: workdir=/x: no such directory"; got != want {
		t.Errorf("statusLine = %q, want %q", got, want)
	}
}

func FuzzNotifyAddr(f *testing.F) {
	for _, s := range []string{"/run/systemd/notify", "@abstract", "@", "", "relative", "vsock:1:2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		a, err := notifyAddr(v)
		if err != nil {
			return
		}
		if len(v) < 2 || (v[0] != '/' && v[0] != '@') || a.Name != v || a.Net != "unixgram" {
			t.Errorf("notifyAddr(%q) accepted it as %+v", v, a)
		}
	})
}

// A daemon (daemonize=true) is not the process systemd started: it names
// itself the main process before its parent exits, so that systemd follows
// it (with NotifyAccess=all), then says READY=1 once it serves.
func TestNotifyDaemon(t *testing.T) {
	for _, method := range []string{"threaded", "prefork"} {
		t.Run(method, func(t *testing.T) {
			dir := tempDir(t)
			addr := filepath.Join(dir, "notify")
			systemd := bindNotify(t, addr)
			cmd := helper(t, dir, "method="+method, "socket=d.sock", "pidfile=d.pid", "errlog=err.log", "minspare=1", "maxspare=1", "maxchildren=2")
			cmd.Env = append(cmd.Env, notifySocketEnv+"="+addr)
			p := &proc{t: t, cmd: cmd}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("daemonize=true parent: %v; output:\n%s", err, out)
			}
			daemon := readPID(t, filepath.Join(dir, "d.pid"))
			t.Cleanup(func() { syscall.Kill(daemon, syscall.SIGKILL) })
			// Sent before the parent exited, so already queued: read
			// without waiting.
			m, err := systemd.readQueued()
			if err != nil {
				t.Fatalf("nothing from the daemon %d by the time its parent exited: %v", daemon, err)
			}
			go func() {
				for {
					m, err := systemd.read()
					if err != nil {
						close(systemd.msgs)
						return
					}
					systemd.msgs <- m
				}
			}()
			if m.pid != daemon || m.fields["MAINPID"] != strconv.Itoa(daemon) {
				t.Fatalf("first notification %q from pid %d, want MAINPID=%d from the daemon", m.raw, m.pid, daemon)
			}
			if m.fields["READY"] != "1" {
				// prefork: READY=1 follows once its workers serve.
				systemd.expect(p, "READY", daemon)
			}
			if err := syscall.Kill(daemon, syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			systemd.expect(p, "STOPPING", daemon)
			for i := 0; i < 3000 && !processGone(daemon); i++ {
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
