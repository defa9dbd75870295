package ajp

import (
	"strings"
	"testing"
	"time"
)

// Regression (issue 14 §3): a CPING now and then restarted the idle
// timeout, so a connection that never sent a request stayed open for good
// (and, counted as active, locked others out at MaxConns). The idle timeout
// runs from the last request.
func TestCPingDoesNotKeepConnection(t *testing.T) {
	l, _ := start(t, &Server{Handler: &recorder{}, IdleTimeout: 600 * time.Millisecond})
	c := dial(t, l)
	if r := c.roundTrip(nil, get("/").packet()); r.status != 200 {
		t.Fatalf("response %+v", r)
	}
	for start := time.Now(); time.Since(start) < 5*time.Second; time.Sleep(200 * time.Millisecond) {
		c.send(cping())
		c.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := readReply(c.r); err != nil {
			return // closed: CPINGs did not keep it
		}
	}
	t.Fatal("a connection sending only CPINGs outlived IdleTimeout 600ms by seconds")
}

// Regression (issue 14 §3): a FORWARD_REQUEST sent a byte at a time kept
// its connection for the idle timeout, restarted by each request. The rest
// of a packet whose header arrived has ReadHeaderTimeout.
func TestSlowForwardRequest(t *testing.T) {
	l, logs := start(t, &Server{Handler: &recorder{}, ReadHeaderTimeout: 300 * time.Millisecond})
	c := dial(t, l)
	p := get("/slow").packet()
	began := time.Now()
	for i := range p {
		c.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.conn.Write(p[i : i+1]); err != nil {
			break
		}
		if time.Since(began) > 10*time.Second {
			t.Fatal("a request packet sent a byte every 50ms was still being read after 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "not complete within ReadHeaderTimeout 300ms"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("log %q, want the ReadHeaderTimeout line", logs.String())
		}
	}
}
