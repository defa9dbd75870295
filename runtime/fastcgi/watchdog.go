package fastcgi

import (
	"sync"
	"sync/atomic"
	"time"
)

// watchdog hands reading to a new goroutine on each connection whose
// handler has run on the reader's goroutine for a while (see conn). One
// goroutine per Server does it, ticking every handOffAfter, and only while
// some handler runs inline. A timer per connection, reset and stopped
// around every request, did the same job for a twentieth of a small
// request's time.
type watchdog struct {
	mu      sync.Mutex
	conns   map[*conn]uint64 // each connection's inline count at the last tick
	running atomic.Bool      // a goroutine runs run
}

func (w *watchdog) add(c *conn) {
	w.mu.Lock()
	if w.conns == nil {
		w.conns = make(map[*conn]uint64)
	}
	w.conns[c] = 0
	w.mu.Unlock()
}

func (w *watchdog) remove(c *conn) {
	w.mu.Lock()
	delete(w.conns, c)
	w.mu.Unlock()
}

// wake makes sure the watchdog runs. A reader calls it after it has marked
// itself running a handler (an odd c.inline), so that either it sees the
// watchdog running or the watchdog, rechecking after it stops, sees it.
func (w *watchdog) wake() {
	if !w.running.Load() && w.running.CompareAndSwap(false, true) {
		go w.run()
	}
}

func (w *watchdog) run() {
	t := time.NewTicker(handOffAfter)
	defer t.Stop()
	for range t.C {
		if w.tick() {
			continue
		}
		w.running.Store(false)
		if !w.busy() || !w.running.CompareAndSwap(false, true) {
			return
		}
	}
}

// tick hands off every connection whose reader has run the same handler
// since the last tick, at least handOffAfter ago, and reports whether any
// handler runs inline.
func (w *watchdog) tick() (busy bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for c, last := range w.conns {
		n := c.inline.Load()
		if n%2 == 1 {
			busy = true
			if n == last {
				c.handOff()
			}
		}
		w.conns[c] = n
	}
	return busy
}

// busy reports whether any handler runs inline.
func (w *watchdog) busy() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for c := range w.conns {
		if c.inline.Load()%2 == 1 {
			return true
		}
	}
	return false
}
