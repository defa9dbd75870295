package runfcgi

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// listening is an open listener and how to undo what opening it created.
type listening struct {
	l net.Listener
	// socketPath is the absolute path of a unix socket we created (it is
	// removed on exit even after a chdir); socketInfo identifies it so that a
	// socket someone else created there since is left alone.
	socketPath string
	socketInfo os.FileInfo
}

func (ln *listening) close() {
	ln.l.Close()
	if ln.socketPath == "" {
		return
	}
	if fi, err := os.Lstat(ln.socketPath); err == nil && os.SameFile(fi, ln.socketInfo) {
		os.Remove(ln.socketPath)
	}
}

// listen opens the TCP or unix socket o names.
func listen(o Options) (*listening, error) {
	if o.Socket == "" {
		if o.Port < 1 || o.Port > 65535 || o.Host == "" {
			return nil, fmt.Errorf("runfcgi: no address to listen on: host %q, port %d (set host= and port=, or socket=)", o.Host, o.Port)
		}
		l, err := net.Listen("tcp", net.JoinHostPort(o.Host, strconv.Itoa(o.Port)))
		if err != nil {
			return nil, fmt.Errorf("runfcgi: listening on %s: %w", net.JoinHostPort(o.Host, strconv.Itoa(o.Port)), err)
		}
		return &listening{l: l}, nil
	}
	if err := checkSocket(o.Socket); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(o.Socket)
	if err != nil {
		return nil, fmt.Errorf("runfcgi: socket %q: %w", o.Socket, err)
	}
	if err := removeStaleSocket(o.Socket); err != nil {
		return nil, err
	}
	// The path as given goes to bind: its absolute form may be too long.
	l, err := net.Listen("unix", o.Socket)
	if err != nil {
		return nil, fmt.Errorf("runfcgi: listening on socket %s: %w", o.Socket, err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	fi, err := os.Lstat(o.Socket)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("runfcgi: socket %s vanished after listening: %w", o.Socket, err)
	}
	return &listening{l: l, socketPath: abs, socketInfo: fi}, nil
}

// removeStaleSocket deletes a socket file left by a server that died, and
// refuses to touch a socket some server still answers on or a file that is
// not a socket at all (a typo must not delete someone's data).
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("runfcgi: socket %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("runfcgi: socket %s exists and is not a socket (%s); refusing to remove it", path, fi.Mode().Type())
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("runfcgi: socket %s is in use by a running server; stop it first", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("runfcgi: socket %s exists and cannot tell whether a server uses it: %w", path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("runfcgi: removing stale socket %s: %w", path, err)
	}
	return nil
}

// spawnedListener wraps the listening socket a web server passed as fd 0.
// fd 0 itself stays open: closing it would let the next accepted connection
// take descriptor 0, where anything reading os.Stdin would consume it.
func spawnedListener() (net.Listener, error) {
	l, err := net.FileListener(os.Stdin)
	if err != nil {
		return nil, fmt.Errorf("runfcgi: using the socket on stdin: %w", err)
	}
	return l, nil
}

// parseWebServerAddrs reads FCGI_WEB_SERVER_ADDRS: the FastCGI spec's comma
// separated list of the IP addresses allowed to connect. Empty: everyone.
func parseWebServerAddrs(v string) ([]net.IP, error) {
	var ips []net.IP
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		ip := net.ParseIP(f)
		if ip == nil {
			return nil, fmt.Errorf("runfcgi: FCGI_WEB_SERVER_ADDRS entry %q is not an IP address", f)
		}
		ips = append(ips, ip)
	}
	return ips, nil
}

// allowListener accepts only TCP peers whose IP is in allowed; others are
// closed and logged. Unix socket peers are local and always accepted.
type allowListener struct {
	net.Listener
	allowed []net.IP
	log     *log.Logger
}

func (l *allowListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tcp, ok := c.RemoteAddr().(*net.TCPAddr)
		if !ok || l.allows(tcp.IP) {
			return c, nil
		}
		l.log.Printf("runfcgi: %s: refused: not in FCGI_WEB_SERVER_ADDRS", c.RemoteAddr())
		c.Close()
	}
}

func (l *allowListener) allows(ip net.IP) bool {
	for _, a := range l.allowed {
		if a.Equal(ip) {
			return true
		}
	}
	return false
}
