package reliability

import (
	"bufio"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestPanicPath is scenario 4 in the threaded model: a handler that panics on one path, mixed
// with normal traffic on the same connections, gets 500 for that path only; every other
// request is answered 200 and no connection is lost. It logs the time per normal request with
// and without the panics in between (the long version, APPGEN_LONG=1, sends more).
func TestPanicPath(t *testing.T) {
	rounds := 50
	if long() {
		rounds = 2000
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			s := start(t, p, Handler(), limits{})
			// run sends rounds requests for each path, in turn, and returns the answers by path
			// and status, and the time spent on "/" alone.
			run := func(paths ...string) (map[string]map[int]int, time.Duration) {
				var c net.Conn
				var r *bufio.Reader
				counts := map[string]map[int]int{}
				var plain time.Duration
				for i := range len(paths) * rounds {
					path := paths[i%len(paths)]
					if c == nil || !p.reuses {
						c, r = s.dial(t)
					}
					began := time.Now()
					resp := s.do(t, c, r, "GET", path, nil, "")
					if path == "/" {
						plain += time.Since(began)
					}
					if counts[path] == nil {
						counts[path] = map[int]int{}
					}
					counts[path][resp.Status]++
					if !p.reuses {
						c.Close()
						c = nil
					}
				}
				return counts, plain
			}
			_, alone := run("/")
			counts, mixed := run("/", "/panic")
			t.Logf("%s: sent %d; / %v; /panic %v; socket errors 0; time per / request: %v alone, %v mixed with panics (%.2f×)",
				p.name, 3*rounds, counts["/"], counts["/panic"], alone/time.Duration(rounds), mixed/time.Duration(rounds), float64(mixed)/float64(alone))
			if counts["/"][200] != rounds || counts["/panic"][500] != rounds {
				t.Errorf("got / %v and /panic %v, want %d × 200 and %d × 500", counts["/"], counts["/panic"], rounds, rounds)
			}
			if len(s.log.LinesWith("asked to panic")) == 0 {
				t.Errorf("the panic's value was not logged; log:\n%s", s.log.String())
			}
		})
	}
}

// TestPanicMultiplexed: on one FastCGI connection carrying several requests at once, a panic in
// one of them is a 500 for that request only; the others on the connection complete.
func TestPanicMultiplexed(t *testing.T) {
	s := start(t, protocolNamed(t, "fastcgi"), Handler(), limits{})
	c, r := s.dial(t)
	var batch []byte
	const n = 8
	for id := uint16(1); id <= n; id++ {
		path := "/"
		if id%2 == 0 {
			path = "/panic"
		}
		batch = append(batch, FCGIRequest(id, true, nil, GetParams("GET", path)...)...)
	}
	if _, err := c.Write(batch); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFCGIResponses(r, n)
	if err != nil {
		t.Fatalf("reading %d multiplexed responses: %v (got %d)", n, err, len(got))
	}
	for id := uint16(1); id <= n; id++ {
		want := http.StatusOK
		if id%2 == 0 {
			want = http.StatusInternalServerError
		}
		if got[id].Status != want {
			t.Errorf("request %d: status %d, want %d", id, got[id].Status, want)
		}
	}
	if resp := s.do(t, c, r, "GET", "/", nil, ""); resp.Status != 200 {
		t.Errorf("the connection after the panics: status %d, want 200", resp.Status)
	}
}
