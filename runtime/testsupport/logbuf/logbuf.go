package logbuf

import (
	"bytes"
	"strings"
	"sync"
	"time"
)

// waitTimeout bounds Wait, so that a line that never comes fails the test
// that waits for it instead of hanging it. A variable so that this
// package's test can shorten it.
var waitTimeout = 10 * time.Second

// Buffer collects what is written to it. The zero value is ready to use;
// a Buffer must not be copied after first use.
type Buffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written *sync.Cond // made by the first Wait
}

// Write appends p and wakes Wait.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.b.Write(p)
	if b.written != nil {
		b.written.Broadcast()
	}
	return n, err
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Lines returns the lines written so far, without their newlines; nil when
// nothing but white space was written.
func (b *Buffer) Lines() []string {
	return split(b.String())
}

// LinesWith returns the lines written so far that contain s.
func (b *Buffer) LinesWith(s string) []string {
	var out []string
	for _, line := range b.Lines() {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

// Wait returns the lines once there are at least n, or after 10 seconds
// with the fewer there are then; the caller checks the count.
func (b *Buffer) Wait(n int) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.written == nil {
		b.written = sync.NewCond(&b.mu)
	}
	expired := false
	t := time.AfterFunc(waitTimeout, func() {
		b.mu.Lock()
		expired = true
		b.written.Broadcast()
		b.mu.Unlock()
	})
	defer t.Stop()
	for {
		if l := split(b.b.String()); len(l) >= n || expired {
			return l
		}
		b.written.Wait()
	}
}

func split(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
