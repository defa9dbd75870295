package runfcgi

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
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
	// heldElsewhere: another process keeps the socket open for as long as
	// this one serves (systemd, which passed it), so closing this copy
	// resets nothing queued on it (see queueListener).
	heldElsewhere bool
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
	if err := checkSocketDir(o.Socket); err != nil {
		return nil, err
	}
	gid := -1
	if o.SocketGroup != "" {
		if gid, err = lookupGroup(o.SocketGroup); err != nil {
			return nil, err
		}
	}
	if err := removeStaleSocket(o.Socket); err != nil {
		return nil, err
	}
	// The socket is born reachable by its owner only, and opened up to
	// socket_mode once it has its group: no one else can connect in between,
	// whatever the umask.
	var l net.Listener
	withUmask(0o177, func() {
		// The path as given goes to bind: its absolute form may be too long.
		l, err = net.Listen("unix", o.Socket)
	})
	if err != nil {
		return nil, fmt.Errorf("runfcgi: listening on socket %s: %w", o.Socket, err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	fi, err := os.Lstat(o.Socket)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("runfcgi: socket %s vanished after listening: %w", o.Socket, err)
	}
	ln := &listening{l: l, socketPath: abs, socketInfo: fi}
	if gid >= 0 {
		if err := os.Lchown(o.Socket, -1, gid); err != nil {
			ln.close()
			return nil, fmt.Errorf("runfcgi: socket_group=%s: %w (the process's user must be a member of the group, or root)", o.SocketGroup, err)
		}
	}
	if err := os.Chmod(o.Socket, fs.FileMode(o.SocketMode)); err != nil {
		ln.close()
		return nil, fmt.Errorf("runfcgi: socket_mode=%04o on %s: %w", o.SocketMode, o.Socket, err)
	}
	return ln, nil
}

// checkSocketDir gives a clear error for a socket whose directory is
// missing. runfcgi does not create it: the directory's owner and mode decide
// who may reach the socket, which is the deployment's decision (systemd's
// RuntimeDirectory= creates /run/NAME for the service's user; it is emptied
// on reboot, so a directory made by hand once would vanish too).
func checkSocketDir(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("runfcgi: socket=%s: directory %s does not exist; create it for the site's user (systemd: RuntimeDirectory=), or choose a socket in an existing directory", path, dir)
	case err != nil:
		return fmt.Errorf("runfcgi: socket=%s: directory %s: %w", path, dir, err)
	case !fi.IsDir():
		return fmt.Errorf("runfcgi: socket=%s: %s is not a directory", path, dir)
	}
	return nil
}

// lookupGroup reads socket_group=: a group name, or a number.
func lookupGroup(name string) (int, error) {
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		return n, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("runfcgi: socket_group=%s: %w", name, err)
	}
	n, err := strconv.Atoi(g.Gid)
	if err != nil {
		return 0, fmt.Errorf("runfcgi: socket_group=%s: group id %q is not a number", name, g.Gid)
	}
	return n, nil
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

// queueListener is the listener the threaded model serves on. A graceful
// shutdown takes the connections queued on a listener with SetDeadline
// before closing it (serve.Server.Serve), because closing a socket's last
// copy resets them. That is only right while this process is the socket's
// last holder: once systemd (socket activation), the web server that
// spawned the process, or a successor after a SIGHUP hand-over holds it too,
// closing this copy resets nothing, and taking the queue would only take
// new connections from whoever goes on serving (a spawned process restarting
// after maxrequests would serve more than its share). So SetDeadline fails
// while shared is set, and Shutdown closes this copy at once.
type queueListener struct {
	net.Listener
	shared atomic.Bool
}

// errShared is queueListener.SetDeadline's answer for a shared socket.
var errShared = errors.New("runfcgi: the socket is held by another process too; its queue is left to it")

func (l *queueListener) SetDeadline(t time.Time) error {
	if l.shared.Load() {
		return errShared
	}
	d, ok := l.Listener.(interface{ SetDeadline(time.Time) error })
	if !ok {
		return fmt.Errorf("runfcgi: listener %T has no SetDeadline", l.Listener)
	}
	return d.SetDeadline(t)
}

// SetDeadline forwards to the listener it wraps, so that a graceful
// shutdown can take the connections queued on it before closing it (see
// serve.Server.Serve); it fails for a listener without deadlines.
func (l *allowListener) SetDeadline(t time.Time) error {
	d, ok := l.Listener.(interface{ SetDeadline(time.Time) error })
	if !ok {
		return fmt.Errorf("runfcgi: listener %T has no SetDeadline", l.Listener)
	}
	return d.SetDeadline(t)
}

func (l *allowListener) allows(ip net.IP) bool {
	for _, a := range l.allowed {
		if a.Equal(ip) {
			return true
		}
	}
	return false
}
