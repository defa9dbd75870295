//go:build unix

package runfcgi

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testSecret is never expected in a message, an argv or a log.
const testSecret = "s3cr3t-Zq9vX"

func TestLoadSecret(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("good", testSecret+"\nsecond line ignored\n", 0o600)
	crlf := file("crlf", testSecret+"\r\n", 0o400)
	group := file("group", testSecret+"\n", 0o640)
	world := file("world", testSecret+"\n", 0o644)
	groupWrite := file("groupwrite", testSecret+"\n", 0o620)
	empty := file("empty", "\n"+testSecret+"\n", 0o600)
	ctrl := file("ctrl", testSecret+"\x01\n", 0o600)
	huge := file("huge", strings.Repeat("x", maxSecretFile+1), 0o600)
	public := []string{"protocol=ajp", "host=192.0.2.1", "port=8009"}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		secret  string // the secret loaded, when no error
		err     string // a fragment of the error
		usage   bool   // the error wraps ErrUsage
		warning string // a fragment of the warning, "" for none
	}{
		{"secret_file", append(public, "secret_file="+good), nil, testSecret, "", false, ""},
		{"secret_file with CRLF", append(public, "secret_file="+crlf), nil, testSecret, "", false, ""},
		{"secret_file readable by its group warns", append(public, "secret_file="+group), nil, testSecret, "", false, "is readable by group"},
		{"secret_file readable by everyone", append(public, "secret_file="+world), nil, "", "is readable by every user (mode 0644); want 0600", false, ""},
		{"secret_file writable by its group", append(public, "secret_file="+groupWrite), nil, "", "writable by others than its owner (mode 0620)", false, ""},
		{"secret_file missing", append(public, "secret_file="+filepath.Join(dir, "nope")), nil, "", "no such file", false, ""},
		{"secret_file a directory", append(public, "secret_file="+dir), nil, "", "is not a regular file", false, ""},
		{"secret_file with an empty first line", append(public, "secret_file="+empty), nil, "", "the first line is empty", false, ""},
		{"secret_file with a control character", append(public, "secret_file="+ctrl), nil, "", "control character", false, ""},
		{"secret_file too large", append(public, "secret_file="+huge), nil, "", "larger than 65536 bytes", false, ""},
		{"environment", public, map[string]string{SecretEnv: testSecret}, testSecret, "", false, ""},
		{"environment with a control character", public, map[string]string{SecretEnv: "a\nb"}, "", SecretEnv + ": the secret contains a control character", false, ""},
		{"environment ignored for fcgi", []string{"host=192.0.2.1", "port=9000"}, map[string]string{SecretEnv: testSecret}, "", "", false, ""},
		{"secret= works and warns", append(public, "secret="+testSecret), nil, testSecret, "", false, "can be read by every local user"},
		{"secret= and secret_file=", append(public, "secret=x", "secret_file="+good), nil, "", "given more than once", true, ""},
		{"secret= and the environment", append(public, "secret=x"), map[string]string{SecretEnv: testSecret}, "", "given more than once", true, ""},
		{"no secret on a public address (Ghostcat)", public, nil, "", "protocol=ajp on host=192.0.2.1 needs a secret (secret_file=PATH or APPGEN_AJP_SECRET)", true, ""},
		{"no secret on a host name", []string{"protocol=ajp", "host=example.com", "port=8009"}, nil, "", "needs a secret", true, ""},
		{"no secret on loopback", []string{"protocol=ajp", "host=127.0.0.1", "port=8009"}, nil, "", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Parse(tt.args, projectDefaults)
			if err != nil {
				t.Fatal(err)
			}
			var warn bytes.Buffer
			err = o.loadSecret(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }, &warn)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("loadSecret(%q) = %v, want an error containing %q", tt.args, err, tt.err)
				}
				if errors.Is(err, ErrUsage) != tt.usage {
					t.Errorf("errors.Is(%v, ErrUsage) = %t, want %t", err, !tt.usage, tt.usage)
				}
				if strings.Contains(err.Error(), testSecret) {
					t.Errorf("error %q contains the secret", err)
				}
			} else if err != nil {
				t.Fatalf("loadSecret(%q) = %v", tt.args, err)
			}
			if err == nil && o.Secret != tt.secret {
				t.Errorf("secret = %q, want %q", o.Secret, tt.secret)
			}
			if tt.warning == "" && warn.Len() > 0 || !strings.Contains(warn.String(), tt.warning) {
				t.Errorf("warning = %q, want %q", warn.String(), tt.warning)
			}
			if strings.Contains(warn.String(), testSecret) {
				t.Errorf("warning %q contains the secret", warn.String())
			}
		})
	}
}

func TestWithoutSecretArgs(t *testing.T) {
	got := withoutSecretArgs([]string{"/bin/mysite", "runfcgi", "protocol=ajp", "SECRET=a", "secret_file=/f", "Secret_File=/g", "secretx=1", "port=1"})
	want := []string{"/bin/mysite", "runfcgi", "protocol=ajp", "secretx=1", "port=1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("withoutSecretArgs = %q, want %q", got, want)
	}
}

// ajpGet sends one AJP13 forward request for uri, with the secret attribute
// when secret is not empty, and returns the response status.
func ajpGet(t *testing.T, addr, uri, secret string) int {
	t.Helper()
	var b bytes.Buffer
	str := func(s string) {
		binary.Write(&b, binary.BigEndian, uint16(len(s)))
		b.WriteString(s)
		b.WriteByte(0)
	}
	b.WriteByte(2) // JK_AJP13_FORWARD_REQUEST
	b.WriteByte(2) // GET
	str("HTTP/1.1")
	str(uri)
	str("127.0.0.1")
	str("localhost")
	str("localhost")
	binary.Write(&b, binary.BigEndian, uint16(80))
	b.WriteByte(0)                                // is_ssl
	binary.Write(&b, binary.BigEndian, uint16(1)) // one header
	binary.Write(&b, binary.BigEndian, uint16(0xA00B))
	str("localhost")
	if secret != "" {
		b.WriteByte(0x0C)
		str(secret)
	}
	b.WriteByte(0xFF)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	head := []byte{0x12, 0x34, 0, 0}
	binary.BigEndian.PutUint16(head[2:], uint16(b.Len()))
	if _, err := c.Write(append(head, b.Bytes()...)); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, 7)
	if _, err := io.ReadFull(c, reply); err != nil {
		t.Fatalf("AJP GET %s: %v", uri, err)
	}
	if reply[0] != 'A' || reply[1] != 'B' || reply[4] != 4 {
		t.Fatalf("AJP GET %s: reply %q is not SEND_HEADERS", uri, reply)
	}
	return int(binary.BigEndian.Uint16(reply[5:]))
}

// cmdline is a process's argv from /proc, NULs as spaces.
func cmdline(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		t.Fatalf("reading the command line of pid %d: %v", pid, err)
	}
	return string(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var kids []int
	for _, e := range entries {
		var child int
		if _, err := fmt.Sscan(e.Name(), &child); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		var state string
		var ppid int
		fmt.Sscan(string(b[bytes.LastIndexByte(b, ')')+1:]), &state, &ppid)
		if ppid == pid && state != "Z" {
			kids = append(kids, child)
		}
	}
	return kids
}

// TestSecretNotOnArgv pins issue 14 §2: the AJP secret given on the command
// line went on to the daemon's and every prefork worker's argv, where every
// local user reads it. Now the daemon and the workers show no secret in
// /proc/PID/cmdline, and still check it: a request with the secret is
// answered, one without is refused. Each way of giving the secret is tried.
func TestSecretNotOnArgv(t *testing.T) {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	for _, way := range []string{"secret=", "secret_file=", SecretEnv} {
		t.Run(way, func(t *testing.T) {
			dir := tempDir(t)
			port := freePort(t)
			addr := fmt.Sprintf("127.0.0.1:%d", port)
			args := []string{"protocol=ajp", "method=prefork", "host=127.0.0.1", fmt.Sprint("port=", port),
				"pidfile=a.pid", "errlog=a.log", "debug=true", "minspare=1", "maxspare=2", "maxchildren=2"}
			cmd := helper(t, dir)
			switch way {
			case "secret=":
				args = append(args, "secret="+testSecret)
			case "secret_file=":
				// Relative: the daemon changes to / before it starts workers.
				if err := os.WriteFile(filepath.Join(dir, "ajp-secret"), []byte(testSecret+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "secret_file=ajp-secret")
			case SecretEnv:
				cmd.Env = append(cmd.Env, SecretEnv+"="+testSecret)
			}
			cmd.Args = append(cmd.Args, args...)
			master, out := runDaemon(t, cmd, filepath.Join(dir, "a.pid"))
			warned := strings.Contains(out, "secret= on the command line can be read by every local user")
			if warned != (way == "secret=") {
				t.Errorf("parent output = %q; want the command-line warning only for secret=", out)
			}
			if strings.Contains(out, testSecret) {
				t.Errorf("parent output %q contains the secret", out)
			}
			if got := ajpGet(t, addr, "/with", testSecret); got != 200 {
				t.Errorf("AJP request with the secret: status %d, want 200", got)
			}
			if got := ajpGet(t, addr, "/without", ""); got != 403 {
				t.Errorf("AJP request without the secret: status %d, want 403", got)
			}
			if got := ajpGet(t, addr, "/wrong", testSecret+"x"); got != 403 {
				t.Errorf("AJP request with a wrong secret: status %d, want 403", got)
			}
			workers := childrenOf(t, master)
			if len(workers) == 0 {
				t.Fatalf("the prefork master %d has no workers", master)
			}
			for _, pid := range append([]int{master}, workers...) {
				if c := cmdline(t, pid); strings.Contains(c, testSecret) || strings.Contains(c, "secret") {
					t.Errorf("pid %d runs with the secret on its command line: %q", pid, c)
				}
			}
			log, _ := os.ReadFile(filepath.Join(dir, "a.log"))
			if strings.Contains(string(log), testSecret) {
				t.Errorf("log contains the secret")
			}
		})
	}
}
