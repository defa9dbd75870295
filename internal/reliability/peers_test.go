package reliability

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Scenarios of issue 14 §3: one peer must not starve or exhaust the server. Each one reproduces
// an attack measured against the old code, which it failed: the hang guard ran out, or the
// heap grew without bound.

// management is a record a web server sends to check a connection, which must not count as
// activity: FastCGI's GET_VALUES, AJP's CPING; nil for SCGI, which has none.
func management(p string) (send []byte, replyLen func(*bufio.Reader) error) {
	switch p {
	case "fastcgi":
		return FCGIRecord(1, FCGIGetValues, 0, FCGIPairs("FCGI_MPXS_CONNS", ""), -1, 0), func(r *bufio.Reader) error {
			var h [8]byte
			if _, err := io.ReadFull(r, h[:]); err != nil {
				return err
			}
			_, err := r.Discard(int(binary.BigEndian.Uint16(h[4:6])) + int(h[6]))
			return err
		}
	case "ajp":
		return AJPPacket([]byte{AJPCPing}, -1), func(r *bufio.Reader) error {
			_, err := r.Discard(5) // AB, length 1, CPONG
			return err
		}
	}
	return nil, nil
}

// TestQuietConnectionsEvicted is scenario 9: MaxConns connections that send nothing, or only a
// management record now and then, used to lock every new client out of all three protocols
// until their idle timeout (5 minutes). Now each new client is served at once, at the cost of
// the connection quiet longest.
func TestQuietConnectionsEvicted(t *testing.T) {
	const maxConns = 32
	const clients = 5
	for _, p := range protocols {
		for _, mode := range []string{"silent", "management"} {
			mgmt, reply := management(p.name)
			if mode == "management" && mgmt == nil {
				continue
			}
			t.Run(p.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				s := start(t, p, Handler(), limits{MaxConns: maxConns})
				var closed atomic.Int64
				var wg sync.WaitGroup
				stop := make(chan struct{})
				for i := range maxConns {
					c, err := net.DialTimeout("tcp", s.addr, hangGuard)
					if err != nil {
						t.Fatalf("quiet connection %d: %v", i, err)
					}
					t.Cleanup(func() { c.Close() })
					wg.Add(1)
					go func() {
						defer wg.Done()
						defer closed.Add(1)
						r := bufio.NewReader(c)
						for {
							if mode == "management" {
								_ = c.SetDeadline(time.Now().Add(hangGuard))
								if _, err := c.Write(mgmt); err != nil {
									return
								}
								if err := reply(r); err != nil {
									return
								}
							}
							select {
							case <-stop:
								closed.Add(-1) // ended by the test, not the server
								return
							case <-time.After(100 * time.Millisecond):
							}
							if mode == "silent" {
								_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
								var b [1]byte
								if _, err := c.Read(b[:]); err != nil && !isTimeout(err) {
									return
								}
							}
						}
					}()
				}
				time.Sleep(300 * time.Millisecond) // every quiet connection accepted and settled
				began := time.Now()
				for i := range clients {
					if resp := s.get(t, "/", ""); resp.Status != 200 {
						t.Fatalf("client %d with %d quiet connections open: status %d, want 200", i, maxConns, resp.Status)
					}
				}
				took := time.Since(began)
				time.Sleep(300 * time.Millisecond)
				close(stop)
				wg.Wait()
				t.Logf("%s/%s: %d new clients served in %v with MaxConns=%d quiet connections open; %d quiet connections closed to make room",
					p.name, mode, clients, took.Round(time.Millisecond), maxConns, closed.Load())
				if n := closed.Load(); n < 1 || n > clients {
					t.Errorf("%d quiet connections closed for %d new clients, want 1 to %d", n, clients, clients)
				}
			})
		}
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// trickle writes b a byte every gap and returns how many bytes went and when writing failed
// (the server closed the connection), or ok=false if all of b went (or the hang guard ran out).
func trickle(c net.Conn, b []byte, gap time.Duration) (sent int, at time.Duration, ok bool) {
	began := time.Now()
	for i := range b {
		if time.Since(began) > hangGuard {
			return i, time.Since(began), false
		}
		_ = c.SetWriteDeadline(time.Now().Add(hangGuard))
		if _, err := c.Write(b[i : i+1]); err != nil {
			return i, time.Since(began), true
		}
		time.Sleep(gap)
	}
	return len(b), time.Since(began), false
}

// headLen is how many bytes of a request p.request built come before its body's bytes.
func headLen(p string, full, body []byte) int {
	switch p {
	case "fastcgi":
		return len(full) - len(FCGIStream(FCGIStdin, 1, body))
	case "scgi":
		return len(full) - len(body)
	}
	return 4 + int(binary.BigEndian.Uint16(full[2:4])) // AJP: the FORWARD_REQUEST packet
}

// TestSlowPeers is scenario 10: a request head, or a body, sent a byte at a time used to stay
// open forever on every protocol, since each read restarted its timeout. The head now has one
// deadline (ReadHeaderTimeout) and the body a minimum rate (MinBodyRate, after 5 s of grace).
func TestSlowPeers(t *testing.T) {
	const headTimeout = time.Second
	const rate = 1000
	for _, p := range protocols {
		for _, part := range []string{"head", "body"} {
			t.Run(p.name+"/"+part, func(t *testing.T) {
				t.Parallel()
				s := start(t, p, Handler(), limits{ReadHeaderTimeout: headTimeout, MinBodyRate: rate})
				body := []byte(strings.Repeat("b", 4000))
				full := p.request("POST", "/body", body, "")
				head := headLen(p.name, full, body)
				c, _ := s.dial(t)
				slow := full[:head]
				if part == "body" {
					if _, err := c.Write(full[:head]); err != nil {
						t.Fatal(err)
					}
					slow = full[head:]
				}
				// A byte every 100 ms: the whole would take minutes; the server must cut it off.
				sent, at, ok := trickle(c, slow, 100*time.Millisecond)
				if !ok {
					t.Fatalf("%s sent a byte every 100ms: %d of %d bytes accepted over %v, connection still open",
						part, sent, len(slow), at.Round(time.Millisecond))
				}
				t.Logf("%s: slow %s (%d of %d bytes, a byte per 100ms) cut off after %v (ReadHeaderTimeout %v, MinBodyRate %d B/s after %v)",
					p.name, part, sent, len(slow), at.Round(100*time.Millisecond), headTimeout, rate, 5*time.Second)
				if resp := s.get(t, "/", ""); resp.Status != 200 {
					t.Errorf("after the slow peer: status %d, want 200", resp.Status)
				}
			})
		}
	}
}

// TestFastCGIRequestHog is scenario 11: one FastCGI connection began all 1,024 request ids
// without finishing their params, and every other client got FCGI_OVERLOADED; 300 such
// requests with 1 MiB of params each took the process from 7 MB to 518 MB. Now a connection
// gets MaxConnRequests (64) at once and params are limited to 64 KiB.
func TestFastCGIRequestHog(t *testing.T) {
	p := protocolNamed(t, "fastcgi")
	s := start(t, p, Handler(), limits{})
	hog, hr := s.dial(t)
	go func() { _, _ = io.Copy(io.Discard, hr) }() // its refusals and 431s
	_ = hog.SetDeadline(time.Now().Add(hangGuard))

	var begins []byte
	for id := 1; id <= 1024; id++ {
		begins = append(begins, FCGIBegin(uint16(id), true)...)
		begins = append(begins, FCGIRecord(1, FCGIParams, uint16(id), FCGIPairs("REQUEST_METHOD", "GET"), -1, 0)...)
	}
	if _, err := hog.Write(begins); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if resp := s.get(t, "/", ""); resp.Status != 200 || resp.EndStatus != 0 {
		t.Errorf("another client while one connection began 1,024 requests: status %d, protocol status %d; want 200, 0",
			resp.Status, resp.EndStatus)
	}

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	// The first connection goes, so that the second has every request slot it can take.
	hog.Close()
	time.Sleep(100 * time.Millisecond)
	before := heap()
	// 300 requests on a second connection, 1 MiB of params each, never finished.
	hog2, hr2 := s.dial(t)
	go func() { _, _ = io.Copy(io.Discard, hr2) }()
	// 300 MiB over loopback: a longer guard than one exchange's, for a loaded machine.
	_ = hog2.SetDeadline(time.Now().Add(12 * hangGuard))
	chunk := FCGIPairs("HTTP_X_PAD", strings.Repeat("p", 64<<10-64))
	for id := 1; id <= 300; id++ {
		b := FCGIBegin(uint16(id), true)
		for range 16 {
			b = append(b, FCGIRecord(1, FCGIParams, uint16(id), chunk, -1, 0)...)
		}
		if _, err := hog2.Write(b); err != nil {
			t.Fatalf("request %d of 300: %v", id, err)
		}
	}
	held := heap()
	t.Logf("fastcgi: 300 unfinished requests with 1 MiB of params each: heap %.1f MiB → %.1f MiB",
		mib(before), mib(held))
	if grew := int64(held) - int64(before); grew > 32<<20 {
		t.Errorf("heap grew %.1f MiB for 300 unfinished requests, want at most 32 MiB", float64(grew)/(1<<20))
	}
	if resp := s.get(t, "/", ""); resp.Status != 200 {
		t.Errorf("after the params flood: status %d, want 200", resp.Status)
	}
}
