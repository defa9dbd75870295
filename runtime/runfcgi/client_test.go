//go:build unix

package runfcgi

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// client sends FastCGI requests with libfcgi's cgi-fcgi, a FastCGI client
// that is not ours.
type client struct{ prog string }

// newClient skips the test when cgi-fcgi is missing, except under CI=true,
// where that is a failure.
func newClient(t *testing.T) client {
	t.Helper()
	p, err := exec.LookPath("cgi-fcgi")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cgi-fcgi not found (Debian package libfcgi-bin): %v", err)
		}
		t.Skipf("cgi-fcgi not found (Debian package libfcgi-bin); skipping")
	}
	return client{prog: p}
}

// get requests path from the FastCGI server at addr (host:port or a unix
// socket path) and returns the body of a 200 response.
func (c client) get(addr, path string) (string, error) {
	cmd := exec.Command(c.prog, "-bind", "-connect", addr)
	cmd.Env = []string{
		"REQUEST_METHOD=GET", "SERVER_PROTOCOL=HTTP/1.1", "REQUEST_URI=" + path,
		"SERVER_NAME=localhost", "SERVER_PORT=80", "REMOTE_ADDR=127.0.0.1", "REMOTE_PORT=1234",
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	head, body, ok := strings.Cut(string(out), "\r\n\r\n")
	if err != nil && len(out) == 0 {
		return "", fmt.Errorf("%w: cgi-fcgi -connect %s GET %s: %v; stderr %q", errNoResponse, addr, path, err, stderr.String())
	}
	if err != nil && !(brokenPipeAfterResponse(err) && ok && complete(head, body)) {
		return "", fmt.Errorf("cgi-fcgi -connect %s GET %s: %v; stdout %q; stderr %q", addr, path, err, out, stderr.String())
	}
	if !ok {
		return "", fmt.Errorf("cgi-fcgi -connect %s GET %s: no response header in %q; stderr %q", addr, path, out, stderr.String())
	}
	if !strings.HasPrefix(head, "Status: 200 OK\r\n") {
		return body, fmt.Errorf("cgi-fcgi -connect %s GET %s: response %q", addr, path, head)
	}
	return body, nil
}

// errNoResponse is a request whose connection the server closed before
// sending a byte of response.
var errNoResponse = errors.New("connection closed without a response")

// skipIfServeBug skips the test when err is the known loss in
// runtime/internal/serve: Server.Shutdown counts a connection accepted but
// not yet read from as idle and closes it, so a request that reaches a
// prefork worker as it retires (maxrequests, SIGHUP) gets no response.
// Any other failure still fails the test; once serve keeps such
// connections until their first request, this never skips.
func skipIfServeBug(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, errNoResponse) {
		t.Skipf("known bug in runtime/internal/serve (Shutdown closes connections accepted before their first request arrives): %v", err)
	}
}

// brokenPipeAfterResponse reports cgi-fcgi's exit status 32 (EPIPE): it
// writes its empty FCGI_STDIN record after reading the response, and
// runtime/fastcgi may already have closed a connection without
// FCGI_KEEP_CONN. The response itself is whole, which complete checks; the
// close is the fastcgi package's business, not what these tests examine.
func brokenPipeAfterResponse(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == 32
}

// complete reports whether body has the length the header announced.
func complete(head, body string) bool {
	for _, line := range strings.Split(head, "\r\n") {
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			return v == strconv.Itoa(len(body))
		}
	}
	return false
}
