package reliability

import (
	"net"
	"runtime"
	"testing"
	"time"
)

// TestIdleConnections is scenario 5: 1,000 idle connections held open on each protocol (a
// slowloris that never sends a byte); new requests are still served; the idle connections are
// closed at the idle timeout; the heap grows by a bounded amount per connection (logged).
func TestIdleConnections(t *testing.T) {
	requireLong(t)
	const n = 1000
	const idle = 3 * time.Second
	// Issue 14 §3: an idle connection costs at most 8 KiB (client side included here); the
	// servers take their buffers on the first byte (BenchmarkIdleConnMemory compares net/http).
	const maxPerConn = 8 << 10
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			s := start(t, p, Handler(), limits{IdleTimeout: idle, MaxConns: n + 24})
			heap := func() uint64 {
				// Twice: sync.Pool keeps what it holds through one collection.
				runtime.GC()
				runtime.GC()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				return m.HeapInuse + m.StackInuse
			}
			before := heap()
			conns := make([]net.Conn, 0, n)
			t.Cleanup(func() {
				for _, c := range conns {
					c.Close()
				}
			})
			opened := time.Now()
			for i := range n {
				c, err := net.DialTimeout("tcp", s.addr, hangGuard)
				if err != nil {
					t.Fatalf("idle connection %d: %v", i, err)
				}
				conns = append(conns, c)
			}
			if resp := s.get(t, "/", ""); resp.Status != 200 {
				t.Errorf("with %d idle connections: status %d, want 200", n, resp.Status)
			}
			held := heap()
			closed, open := 0, 0
			for _, c := range conns {
				// Each read waits at most until the idle timeout plus the hang guard.
				_ = c.SetReadDeadline(opened.Add(idle + hangGuard))
				var b [1]byte
				_, err := c.Read(b[:])
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					open++
					continue
				}
				closed++
			}
			for _, c := range conns {
				c.Close()
			}
			after := heap()
			t.Logf("%s: %d idle connections; heap+stacks %.1f MiB → %.1f MiB (%.1f KiB per connection, client side included) → %.1f MiB after the idle timeout; closed by the server %d, still open %d",
				p.name, n, mib(before), mib(held), float64(int64(held)-int64(before))/n/1024, mib(after), closed, open)
			// Bounded: a server that allocated a body or packet limit per connection up front
			// would be far past this.
			if perConn := (int64(held) - int64(before)) / n; perConn > maxPerConn {
				t.Errorf("heap grew %d bytes per idle connection, want at most %d", perConn, maxPerConn)
			}
			if open != 0 {
				t.Errorf("%d idle connections outlived the idle timeout %v by %v", open, idle, hangGuard)
			}
			if resp := s.get(t, "/", ""); resp.Status != 200 {
				t.Errorf("after the idle timeout: status %d, want 200", resp.Status)
			}
		})
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }
