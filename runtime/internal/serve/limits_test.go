package serve

import (
	"errors"
	"io"
	"log"
	"net"
	"os"
	"testing"
	"time"
)

func TestBodyDeadline(t *testing.T) {
	start := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		n    int64
		rate int
		want time.Time
	}{
		{"nothing yet: the grace", 0, 1000, start.Add(BodyRateGrace)},
		{"each byte buys 1/rate s", 2500, 1000, start.Add(BodyRateGrace + 2500*time.Millisecond)},
		{"no overflow for huge bodies", 1 << 40, 1 << 20, start.Add(BodyRateGrace + (1<<20)*time.Second)},
		{"no minimum", 100, 0, time.Time{}},
		{"negative: no minimum", 100, -1, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BodyDeadline(start, tt.n, tt.rate); !got.Equal(tt.want) {
				t.Errorf("BodyDeadline(start, %d, %d) = %v, want %v", tt.n, tt.rate, got, tt.want)
			}
		})
	}
	a, b := start, start.Add(time.Second)
	for _, tt := range []struct{ x, y, want time.Time }{{a, b, a}, {b, a, a}, {time.Time{}, b, b}, {a, time.Time{}, a}} {
		if got := Earliest(tt.x, tt.y); !got.Equal(tt.want) {
			t.Errorf("Earliest(%v, %v) = %v, want %v", tt.x, tt.y, got, tt.want)
		}
	}
}

func TestAcquireSpill(t *testing.T) {
	s := &Server{MaxSpillBytes: 100}
	if !s.AcquireSpill(60) || !s.AcquireSpill(40) {
		t.Fatal("could not take 100 of 100 bytes")
	}
	if s.AcquireSpill(1) {
		t.Fatal("took a byte beyond MaxSpillBytes")
	}
	s.ReleaseSpill(40)
	if !s.AcquireSpill(30) || s.Spilled() != 90 {
		t.Fatalf("after giving 40 back: took 30, %d held, want 90", s.Spilled())
	}
	if unlimited := (&Server{}); !unlimited.AcquireSpill(1 << 50) {
		t.Error("MaxSpillBytes 0 refused")
	}
}

// WaitInput waits for a socket's first byte without taking it, under the
// read deadline, so a protocol can take its buffers only then.
func TestWaitInput(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{ErrorLog: log.New(io.Discard, "", 0)}
	type result struct {
		err  error
		data string
	}
	results := make(chan result, 4)
	go s.Serve(l, func(c *Conn) {
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		err := c.WaitInput()
		var b [5]byte
		n := 0
		if err == nil {
			n, _ = io.ReadFull(c, b[:])
		}
		results <- result{err, string(b[:n])}
	})
	defer s.Close()

	t.Run("data waited for, not consumed", func(t *testing.T) {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		time.Sleep(50 * time.Millisecond)
		c.Write([]byte("hello"))
		if r := <-results; r.err != nil || r.data != "hello" {
			t.Errorf("WaitInput then read: %v %q, want nil \"hello\"", r.err, r.data)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if r := <-results; !errors.Is(r.err, os.ErrDeadlineExceeded) {
			t.Errorf("WaitInput with nothing sent: %v, want a deadline error", r.err)
		}
	})
	t.Run("peer closes", func(t *testing.T) {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		if r := <-results; r.err != nil || r.data != "" {
			t.Errorf("WaitInput on a closed peer: %v %q, want nil and an empty read", r.err, r.data)
		}
	})
}
