package scgi

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Regression (issue 14 §3): a body sent a byte just inside each ReadTimeout
// stayed open forever, since every read restarted the timeout. A body must
// keep MinBodyRate on average.
func TestSlowBody(t *testing.T) {
	readErr := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.Copy(io.Discard, r.Body)
		readErr <- err
	})
	l, _ := start(t, &Server{Handler: h, MinBodyRate: 100000, ReadTimeout: time.Hour})
	c, err := l.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go io.Copy(io.Discard, c)
	in := request("POST", "/slow", strings.Repeat("b", 1000))
	head := len(in) - 1000
	if _, err := c.Write([]byte(in[:head])); err != nil {
		t.Fatal(err)
	}
	go func() {
		for i := head; i < len(in); i++ {
			if _, err := c.Write([]byte(in[i : i+1])); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	select {
	case err := <-readErr:
		if err == nil || !strings.Contains(err.Error(), "timeout") {
			t.Errorf("the handler's read of a body at 20 bytes/s: %v, want a timeout", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("a body sent at 20 bytes/s was still being read after 15s (MinBodyRate 100000, grace 5s)")
	}
}

// The netstring header has one deadline, ReadHeaderTimeout, from its first
// byte, whatever the pace of its bytes.
func TestSlowHeader(t *testing.T) {
	l, logs := start(t, &Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: 300 * time.Millisecond})
	c, err := l.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	in := request("GET", "/slow", "")
	began := time.Now()
	for i := 0; i < len(in); i++ {
		c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Write([]byte(in[i : i+1])); err != nil {
			break
		}
		if time.Since(began) > 10*time.Second {
			t.Fatalf("a header sent a byte every 50ms was still being read after 10s; log %q", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
