package logbuf

import (
	"fmt"
	"log"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestLines(t *testing.T) {
	tests := []struct {
		written string
		want    []string
	}{
		{"", nil},
		{" \n", nil},
		{"one\n", []string{"one"}},
		{"one\ntwo\n", []string{"one", "two"}},
		{"no newline yet", []string{"no newline yet"}},
	}
	for _, tt := range tests {
		var b Buffer
		b.Write([]byte(tt.written))
		if got := b.Lines(); !slices.Equal(got, tt.want) {
			t.Errorf("Lines after %q = %q, want %q", tt.written, got, tt.want)
		}
	}
	var b Buffer
	b.Write([]byte("a: x\nb: y\na: z\n"))
	if got := b.LinesWith("a:"); !slices.Equal(got, []string{"a: x", "a: z"}) {
		t.Errorf("LinesWith = %q", got)
	}
}

// TestConcurrentWritesAndWait: loggers on many goroutines, a test waiting
// for all their lines; run with -race.
func TestConcurrentWritesAndWait(t *testing.T) {
	var b Buffer
	l := log.New(&b, "", 0)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * time.Millisecond)
			l.Printf("line %d", i)
		}()
	}
	if got := b.Wait(20); len(got) != 20 {
		t.Errorf("Wait(20) returned %d lines: %q", len(got), got)
	}
	wg.Wait()
	if got := b.String(); len(got) == 0 {
		t.Error("String is empty")
	}
	for i := range 20 {
		if len(b.LinesWith(fmt.Sprintf("line %d", i))) == 0 {
			t.Errorf("line %d missing", i)
		}
	}
}

func TestWaitGivesUp(t *testing.T) {
	defer func(d time.Duration) { waitTimeout = d }(waitTimeout)
	waitTimeout = 100 * time.Millisecond
	var b Buffer
	b.Write([]byte("only one\n"))
	start := time.Now()
	if got := b.Wait(2); len(got) != 1 {
		t.Errorf("Wait(2) = %q, want the one line there is", got)
	}
	if d := time.Since(start); d < waitTimeout {
		t.Errorf("Wait gave up after %v, before its %v", d, waitTimeout)
	}
}
