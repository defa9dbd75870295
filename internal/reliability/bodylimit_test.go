package reliability

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// declaredHuge is the Content-Length the over-limit requests announce; the client sends only
// a first piece of it, so a server that answers 413 at all has not waited for the rest.
const declaredHuge = 100 << 20

// overLimitRequest is the start of a request that announces size bytes of body and sends only
// piece of them, with no end of stream.
func overLimitRequest(p string, size int, piece []byte) []byte {
	params := GetParams("POST", "/body")
	switch p {
	case "fastcgi":
		b := FCGIBegin(1, true)
		b = append(b, FCGIStream(FCGIParams, 1, FCGIPairs(append(params, "CONTENT_LENGTH", strconv.Itoa(size))...))...)
		return append(b, FCGIRecord(1, FCGIStdin, 1, piece, -1, 0)...)
	case "scgi":
		h := SCGIHeader(append([]string{"CONTENT_LENGTH", strconv.Itoa(size), "SCGI", "1"}, params...)...)
		return append(SCGINetstring(h), piece...)
	default:
		b := AJPRequest("POST", "/body", nil, "", "Content-Length", strconv.Itoa(size))
		return append(b, AJPPacket(append([]byte{byte(len(piece) >> 8), byte(len(piece))}, piece...), -1)...)
	}
}

// TestBodyLimit is scenario 8: with MaxBodyBytes set, a body at the limit is served whole, a
// body one byte over it gets 413, and a request announcing far more than the limit gets 413
// without the handler being called and without the server keeping the body: FastCGI and AJP
// answer after only the first 8 KB was sent; SCGI, which has no way to stop the web server
// from writing the whole body first (and turns a body left unread into a 502 at nginx),
// reads and drops it, and the test checks that the whole process allocated far less than
// the body while it did.
func TestBodyLimit(t *testing.T) {
	const limit = 256 << 10
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			var calls atomic.Int64
			h := Handler()
			s := start(t, p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				h.ServeHTTP(w, r)
			}), limits{MaxBodyBytes: limit})

			t.Run("at the limit", func(t *testing.T) {
				body := bytes.Repeat([]byte("0123456789abcdef"), limit/16)
				c, r := s.dial(t)
				resp := s.do(t, c, r, "POST", "/body", body, "")
				sum := sha256.Sum256(body)
				want := fmt.Sprintf("%d %s\n", len(body), hex.EncodeToString(sum[:]))
				if resp.Status != 200 || string(resp.Body) != want {
					t.Errorf("got %d %q, want 200 %q", resp.Status, resp.Body, want)
				}
			})
			t.Run("one byte over", func(t *testing.T) {
				before := calls.Load()
				c, r := s.dial(t)
				resp := s.do(t, c, r, "POST", "/body", bytes.Repeat([]byte("x"), limit+1), "")
				if resp.Status != http.StatusRequestEntityTooLarge {
					t.Errorf("status %d, want 413", resp.Status)
				}
				if calls.Load() != before {
					t.Errorf("the handler ran for a body over the limit")
				}
			})
			if p.name == "scgi" {
				t.Run("announced 32 MiB, drained", func(t *testing.T) { drained(t, s, &calls) })
			} else {
				t.Run("announced 100 MiB, sent 8 KiB", func(t *testing.T) {
					before := calls.Load()
					c, r := s.dial(t)
					if _, err := c.Write(overLimitRequest(p.name, declaredHuge, []byte(strings.Repeat("y", 8000)))); err != nil {
						t.Fatal(err)
					}
					resp, err := p.read(r)
					if err != nil {
						t.Fatalf("no response before the rest of the body was sent: %v", err)
					}
					if resp.Status != http.StatusRequestEntityTooLarge {
						t.Errorf("status %d, want 413", resp.Status)
					}
					if calls.Load() != before {
						t.Errorf("the handler ran for a body over the limit")
					}
					t.Logf("%s: 413 after %d of %d announced bytes; handler calls 0", p.name, 8000, declaredHuge)
				})
			}
			if resp := s.get(t, "/", ""); resp.Status != 200 {
				t.Errorf("after the over-limit requests: status %d, want 200", resp.Status)
			}
		})
	}
}

// drainedSize is what the SCGI over-limit request announces and sends: 128 times the limit,
// and more than the allocation bound below, so buffering it could not pass unseen.
const drainedSize = 32 << 20

// drained sends an SCGI request announcing and sending drainedSize bytes, streamed from one
// small buffer, and checks the 413 and the allocations made meanwhile.
func drained(t *testing.T, s *running, calls *atomic.Int64) {
	before := calls.Load()
	c, r := s.dial(t)
	_ = c.SetDeadline(time.Now().Add(4 * hangGuard))
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	errc := make(chan error, 1)
	go func() {
		chunk := bytes.Repeat([]byte("z"), 64<<10)
		_, err := c.Write(overLimitRequest("scgi", drainedSize, nil))
		for sent := 0; err == nil && sent < drainedSize; sent += len(chunk) {
			_, err = c.Write(chunk[:min(len(chunk), drainedSize-sent)])
		}
		errc <- err
	}()
	resp, err := s.p.read(r)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	if err := <-errc; err != nil {
		t.Errorf("the server stopped reading the body (the web server would answer 502): %v", err)
	}
	runtime.ReadMemStats(&m1)
	if resp.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.Status)
	}
	if calls.Load() != before {
		t.Errorf("the handler ran for a body over the limit")
	}
	const bound = 8 << 20
	allocated := m1.TotalAlloc - m0.TotalAlloc
	t.Logf("scgi: 413 after draining %d announced bytes; %d bytes allocated meanwhile; handler calls 0", drainedSize, allocated)
	if allocated > bound {
		t.Errorf("%d bytes allocated while %d bytes of body were dropped, want at most %d: the body was kept", allocated, drainedSize, bound)
	}
}
