package runfcgi

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// systemd's notification protocol (sd_notify(3)): a service of Type=notify
// sends newline-separated KEY=VALUE lines, one datagram at a time, to the
// unix datagram socket named in NOTIFY_SOCKET (a path, or "@name" for an
// abstract socket). runfcgi tells systemd:
//
//   - READY=1 and MAINPID=<its pid> once it serves (a prefork master: once
//     its first workers serve). MAINPID is what keeps systemd following the
//     service across a threaded SIGHUP, whose successor is a new process:
//     the successor says it before the old process starts to drain, so
//     systemd never sees its main process exit (the unit needs
//     NotifyAccess=all, since the successor is not the main process yet).
//   - RELOADING=1 and MONOTONIC_USEC on SIGHUP, then READY=1 when the new
//     process (threaded) or generation of workers (prefork) serves, or when
//     the reload failed and the old one goes on serving.
//   - STOPPING=1 when it drains for good (SIGTERM, SIGINT); not when it
//     drains after handing over to its successor.
//   - STATUS=, one line saying what it does, shown by systemctl status.
//
// Without NOTIFY_SOCKET nothing is sent.
const notifySocketEnv = "NOTIFY_SOCKET"

// notifyTimeout bounds one notification's write.
const notifyTimeout = time.Second

// notifier sends to systemd's notification socket; a nil *notifier sends
// nothing.
type notifier struct {
	addr *net.UnixAddr
	// env is NOTIFY_SOCKET's value, for the processes runfcgi starts that
	// may notify in turn (a threaded successor, a daemon).
	env string
}

// takeNotifier reads NOTIFY_SOCKET and removes it from the environment, as
// sd_notify's unset_environment does: a program the site runs must not
// speak for the service (NotifyAccess=all would let it). runfcgi passes it
// on itself to the processes that do (childEnv). It returns nil when the
// variable is unset or empty, and an error for a value that is neither an
// absolute path nor an abstract name.
func takeNotifier() (*notifier, error) {
	v := os.Getenv(notifySocketEnv)
	os.Unsetenv(notifySocketEnv)
	if v == "" {
		return nil, nil
	}
	addr, err := notifyAddr(v)
	if err != nil {
		return nil, err
	}
	return &notifier{addr: addr, env: v}, nil
}

// notifyAddr parses NOTIFY_SOCKET: "/path" or "@abstract" (Go's net package
// maps a leading "@" to the abstract namespace's NUL byte, as systemd does).
func notifyAddr(v string) (*net.UnixAddr, error) {
	switch {
	case len(v) > 1 && (v[0] == '/' || v[0] == '@'):
		return &net.UnixAddr{Name: v, Net: "unixgram"}, nil
	default:
		return nil, fmt.Errorf("runfcgi: %s=%q: want an absolute socket path or an @abstract name (systemd sets it for Type=notify services)", notifySocketEnv, v)
	}
}

// send writes lines as one datagram. A nil notifier sends nothing.
func (n *notifier) send(lines ...string) error {
	if n == nil {
		return nil
	}
	for _, l := range lines {
		if strings.ContainsRune(l, '\n') {
			return fmt.Errorf("runfcgi: notifying systemd: %q holds a newline, which would split it into two assignments", l)
		}
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("runfcgi: notifying systemd at %s: %w", n.env, err)
	}
	defer c.Close()
	// A systemd that does not read its socket must not stall a SIGHUP or
	// the prefork master's loop.
	c.SetWriteDeadline(time.Now().Add(notifyTimeout))
	if _, err := c.Write([]byte(strings.Join(lines, "\n") + "\n")); err != nil {
		return fmt.Errorf("runfcgi: notifying systemd at %s: %w", n.env, err)
	}
	return nil
}

// notify sends lines to systemd, if it listens, and logs a failure: the
// site serves whether or not systemd hears about it.
func (r *run) notify(lines ...string) {
	if err := r.notifier.send(lines...); err != nil {
		r.log.Print(err)
	}
}

// notifyReady says this process serves, and is the service's main process.
func (r *run) notifyReady(status string) {
	r.notify("READY=1", "MAINPID="+strconv.Itoa(os.Getpid()), statusLine(status))
}

// statusLine is STATUS= with status on one line: a message from a failed
// process can span several, and a newline would end the assignment.
func statusLine(status string) string {
	return "STATUS=" + strings.Join(strings.Fields(status), " ")
}

// notifyReloading says a reload began. MONOTONIC_USEC (CLOCK_MONOTONIC, in
// microseconds) is what systemd 253's Type=notify-reload wants with it;
// older versions ignore it.
func (r *run) notifyReloading(status string) {
	lines := []string{"RELOADING=1"}
	if usec, ok := monotonicUsec(); ok {
		lines = append(lines, "MONOTONIC_USEC="+strconv.FormatInt(usec, 10))
	}
	r.notify(append(lines, statusLine(status))...)
}

// notifyStopping says the service is going away.
func (r *run) notifyStopping(status string) {
	r.notify("STOPPING=1", statusLine(status))
}
