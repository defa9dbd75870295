package runfcgi

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCheckAJP(t *testing.T) {
	tests := []struct {
		name, protocol, secret string
		addr                   net.Addr
		wantErr                bool
	}{
		{"ajp on loopback", "ajp", "", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, false},
		{"ajp on IPv6 loopback", "ajp", "", &net.TCPAddr{IP: net.IPv6loopback}, false},
		{"ajp on a public address", "ajp", "", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1)}, true},
		{"ajp on every address", "ajp", "", &net.TCPAddr{IP: net.IPv4zero}, true},
		{"ajp with a secret", "ajp", "s", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1)}, false},
		{"ajp on a unix socket", "ajp", "", &net.UnixAddr{Name: "/s", Net: "unix"}, false},
		{"fcgi on a public address", "fcgi", "", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &run{o: Options{Protocol: tt.protocol, Secret: tt.secret}}
			err := r.checkAJP(tt.addr)
			if (err != nil) != tt.wantErr {
				t.Fatalf("checkAJP(%v) = %v, want error %v", tt.addr, err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "needs secret=") {
				t.Errorf("error %q does not say what is missing", err)
			}
		})
	}
}

func TestParseWebServerAddrs(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr string
	}{
		{"", 0, ""},
		{"127.0.0.1", 1, ""},
		{" 127.0.0.1 , ::1,", 2, ""},
		{"127.0.0.1,example.com", 0, `entry "example.com" is not an IP address`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ips, err := parseWebServerAddrs(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseWebServerAddrs(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || len(ips) != tt.want {
				t.Fatalf("parseWebServerAddrs(%q) = %v, %v; want %d addresses", tt.in, ips, err, tt.want)
			}
		})
	}
}

func TestPIDFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.pid")
	remove, err := writePIDFile(path, 4242)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "4242\n" {
		t.Fatalf("pidfile = %q, %v; want %q", b, err, "4242\n")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d files, want only the pidfile (no temporary left)", len(entries))
	}
	t.Run("another process's pidfile is kept", func(t *testing.T) {
		if err := os.WriteFile(path, []byte("99\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		remove()
		if _, err := os.Stat(path); err != nil {
			t.Errorf("pidfile rewritten by another process was removed: %v", err)
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		_, err := writePIDFile(filepath.Join(dir, "no", "x.pid"), 1)
		if err == nil || !strings.HasPrefix(err.Error(), "runfcgi: pidfile=") {
			t.Errorf("error = %v, want runfcgi: pidfile=...", err)
		}
	})
}

func TestWatchNotices(t *testing.T) {
	tests := []struct {
		name   string
		change func(path string) error
	}{
		{"touched", func(p string) error {
			later := time.Now().Add(time.Hour)
			return os.Chtimes(p, later, later)
		}},
		{"removed", os.Remove},
		{"replaced", func(p string) error {
			tmp := p + ".new"
			if err := os.WriteFile(tmp, nil, 0o644); err != nil {
				return err
			}
			st, err := os.Stat(p)
			if err != nil {
				return err
			}
			// Same time, other file: a deploy that renames a new script in.
			if err := os.Chtimes(tmp, st.ModTime(), st.ModTime()); err != nil {
				return err
			}
			return os.Rename(tmp, p)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "mysite.fcgi")
			if err := os.WriteFile(path, nil, 0o755); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			changed := make(chan struct{})
			if err := watch(ctx, path, time.Millisecond, func() { close(changed) }); err != nil {
				t.Fatal(err)
			}
			if err := tt.change(path); err != nil {
				t.Fatal(err)
			}
			<-changed
		})
	}
	t.Run("missing file", func(t *testing.T) {
		err := watch(context.Background(), filepath.Join(t.TempDir(), "none"), time.Second, func() {})
		if err == nil || !strings.HasPrefix(err.Error(), "runfcgi: watch=") {
			t.Errorf("error = %v, want runfcgi: watch=...", err)
		}
	})
}

// Regression test: allowListener (FCGI_WEB_SERVER_ADDRS) hid its listener's
// SetDeadline, so a graceful shutdown closed it at once and reset the
// connections in its accept queue instead of taking them first.
func TestAllowListenerForwardsDeadline(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	var l net.Listener = &allowListener{Listener: tcp, allowed: []net.IP{net.IPv4(127, 0, 0, 1)}}
	d, ok := l.(interface{ SetDeadline(time.Time) error })
	if !ok {
		t.Fatal("allowListener has no SetDeadline")
	}
	if err := d.SetDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatalf("SetDeadline: %v", err)
	}
	if _, err := l.Accept(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Accept after a past deadline = %v, want os.ErrDeadlineExceeded", err)
	}
	// A wrapped listener without deadlines says so, and the caller closes it.
	if err := (&allowListener{Listener: noDeadlineListener{tcp}}).SetDeadline(time.Now()); err == nil {
		t.Error("SetDeadline on a listener without deadlines = nil, want an error")
	}
}

type noDeadlineListener struct{ net.Listener }

// TestQueueListenerLeavesASharedQueue pins why a spawned process restarting
// after maxrequests served more than its share once graceful shutdowns took
// the accept queue: the queue of a socket another process goes on holding
// (the web server, systemd, a SIGHUP successor) is left to it, so
// SetDeadline fails and Shutdown closes this copy at once.
func TestQueueListenerLeavesASharedQueue(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	l := &queueListener{Listener: tcp}
	if err := l.SetDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatalf("SetDeadline on the socket's last holder: %v", err)
	}
	if _, err := l.Accept(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Accept after a past deadline = %v, want os.ErrDeadlineExceeded", err)
	}
	l.shared.Store(true)
	if err := l.SetDeadline(time.Now()); !errors.Is(err, errShared) {
		t.Errorf("SetDeadline on a shared socket = %v, want errShared", err)
	}
	if err := (&queueListener{Listener: noDeadlineListener{tcp}}).SetDeadline(time.Now()); err == nil {
		t.Error("SetDeadline on a listener without deadlines = nil, want an error")
	}
}
