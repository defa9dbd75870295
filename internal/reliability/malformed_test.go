package reliability

import (
	"bufio"
	"encoding/binary"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/testsupport/logbuf"
)

// outcome is what a malformed input must lead to.
type outcome int

const (
	// closes: the server closes that connection (perhaps after an error response) and logs
	// one line naming the peer.
	closes outcome = iota
	// closesOrIgnores: as closes, or the server ignores the input and the same connection
	// still serves a well-formed request (FastCGI lets an application ignore records for
	// request IDs that are not active).
	closesOrIgnores
	// refuses: the server answers an error status without calling the handler.
	refuses
)

type malformedCase struct {
	name  string
	input []byte
	// halfClose shuts the client's writing side after the input, as a peer that died
	// mid-record would, so "truncated" really is truncated.
	halfClose bool
	want      outcome
	// status is the error status a refuses case expects.
	status int
}

// scenarioLimits keep the limits small so "past the limit" inputs stay small too.
var scenarioLimits = limits{MaxHeaderBytes: 4096, MaxBodyBytes: 1 << 20}

func fastcgiMalformed() []malformedCase {
	begin := FCGIBegin(1, true)
	params := FCGIStream(FCGIParams, 1, FCGIPairs(GetParams("GET", "/")...))
	// A BEGIN_REQUEST whose header promises 8 bytes of padding that never come: the server
	// reads the next record's header as padding and what follows as a header.
	paddingLie := append(FCGIRecord(1, FCGIBeginRequest, 1, begin[8:16], -1, 8)[:16], params...)
	// A pair whose name length runs past the end of its record.
	pairLie := []byte{100, 1, 'A', 'B'}
	hugePair := binary.BigEndian.AppendUint32(nil, 0x7FFFFFF0|1<<31)
	hugePair = append(hugePair, 1, 'X')
	return []malformedCase{
		{name: "truncated header", input: []byte{1, FCGIBeginRequest, 0}, halfClose: true, want: closes},
		{name: "truncated begin-request", input: FCGIRecord(1, FCGIBeginRequest, 1, begin[8:12], 8, 0), halfClose: true, want: closes},
		{name: "truncated params record", input: append(append([]byte{}, begin...), FCGIRecord(1, FCGIParams, 1, []byte{14, 3, 'R', 'E'}, 20, 0)...), halfClose: true, want: closes},
		{name: "wrong version", input: FCGIRecord(2, FCGIBeginRequest, 1, begin[8:16], -1, 0), want: closes},
		// Params past the limit are the request's fault, not the connection's: a 431 for that
		// request, and the connection's other requests go on.
		{name: "params past MaxHeaderBytes", input: append(append([]byte{}, begin...),
			FCGIStream(FCGIParams, 1, FCGIPairs("HTTP_X_BIG", strings.Repeat("a", 3*scenarioLimits.MaxHeaderBytes)))...),
			want: refuses, status: http.StatusRequestHeaderFieldsTooLarge},
		{name: "padding lie", input: paddingLie, want: closes},
		{name: "pair length past its record", input: append(append([]byte{}, begin...), FCGIStream(FCGIParams, 1, pairLie)...), want: closes},
		{name: "pair length of 2 GiB", input: append(append([]byte{}, begin...), FCGIStream(FCGIParams, 1, hugePair)...), want: closes},
		{name: "duplicate request ID", input: append(append([]byte{}, begin...), begin...), want: closes},
		{name: "records for an unknown request ID", input: FCGIStream(FCGIParams, 7, FCGIPairs(GetParams("GET", "/")...)), want: closesOrIgnores},
		{name: "stdin for an unknown request ID", input: FCGIRecord(1, FCGIStdin, 9, []byte("hello"), -1, 3), want: closesOrIgnores},
	}
}

func scgiMalformed() []malformedCase {
	good := SCGIHeader(append([]string{"CONTENT_LENGTH", "0", "SCGI", "1"}, GetParams("GET", "/")...)...)
	noComma := SCGINetstring(good)
	noComma[len(noComma)-1] = ';'
	return []malformedCase{
		{name: "netstring without a comma", input: noComma, want: closes},
		{name: "netstring length with leading zeros", input: append([]byte("0"), SCGINetstring(good)...), want: closes},
		{name: "netstring length past MaxHeaderBytes", input: []byte("99999999:CONTENT_LENGTH\x000\x00"), want: closes},
		{name: "netstring length not a number", input: []byte("12a:CONTENT_LENGTH\x00"), want: closes},
		{name: "netstring length without a colon", input: []byte(strings.Repeat("1", 40)), halfClose: true, want: closes},
		{name: "truncated header", input: []byte("100:CONTENT_LENGTH\x000\x00SCGI\x001\x00"), halfClose: true, want: closes},
		{name: "CONTENT_LENGTH not first", input: SCGINetstring(SCGIHeader(append([]string{"SCGI", "1", "CONTENT_LENGTH", "0"}, GetParams("GET", "/")...)...)), want: closes},
		{name: "no SCGI=1", input: SCGINetstring(SCGIHeader(append([]string{"CONTENT_LENGTH", "0"}, GetParams("GET", "/")...)...)), want: closes},
		{name: "duplicate name", input: SCGINetstring(append(append([]byte{}, good...), "REQUEST_METHOD\x00POST\x00"...)), want: closes},
		{name: "odd number of strings", input: SCGINetstring(append(append([]byte{}, good...), "DANGLING\x00"...)), want: closes},
	}
}

func ajpMalformed() []malformedCase {
	req := AJPRequest("GET", "/", nil, "")
	payload := req[4:]
	// A forward request carrying a request attribute that is not on the allow-list: the
	// Ghostcat way of smuggling servlet attributes.
	ghost := append([]byte{}, payload[:len(payload)-1]...)
	ghost = append(ghost, 0x0A)
	ghost = ajpString(ghost, "javax.servlet.include.request_uri")
	ghost = ajpString(ghost, "/WEB-INF/web.xml")
	ghost = append(ghost, ajpAttrAreDone)
	return []malformedCase{
		{name: "bad magic", input: []byte{0x12, 0x35, 0, 1, AJPCPing}, want: closes},
		{name: "HTTP instead of AJP", input: []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), want: closes},
		{name: "length past the packet size", input: append([]byte{0x12, 0x34, 0xFF, 0xF0}, payload...), want: closes},
		{name: "length shorter than the request", input: append(AJPPacket(payload[:6], -1), payload[6:]...), want: closes},
		{name: "truncated packet", input: AJPPacket(payload[:10], len(payload)), halfClose: true, want: closes},
		{name: "truncated header", input: []byte{0x12, 0x34, 0}, halfClose: true, want: closes},
		{name: "unknown packet type", input: AJPPacket([]byte{0x77, 1, 2, 3}, -1), want: closes},
		{name: "empty packet", input: AJPPacket(nil, -1), want: closes},
		{name: "duplicate Content-Length", input: AJPRequest("POST", "/body", []byte("abcd"), "", "Content-Length", "4"), want: refuses, status: http.StatusBadRequest},
		{name: "attribute not on the allow-list", input: AJPPacket(ghost, -1), want: refuses, status: http.StatusForbidden},
	}
}

// TestMalformedInput is scenario 6: malformed input on each protocol from a raw socket closes
// only that connection, with a logged line naming the peer, and the server keeps serving:
// a keep-alive connection opened before the bad one still works after it, and so does a new one.
func TestMalformedInput(t *testing.T) {
	sets := map[string][]malformedCase{"fastcgi": fastcgiMalformed(), "scgi": scgiMalformed(), "ajp": ajpMalformed()}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			var calls atomic.Int64
			h := Handler()
			counting := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				h.ServeHTTP(w, r)
			})
			s := start(t, p, counting, scenarioLimits)
			// The bystander: a connection that is in use before every bad input and after it.
			var by net.Conn
			var byR *bufio.Reader
			if p.reuses {
				by, byR = s.dial(t)
				if resp := s.do(t, by, byR, "GET", "/", nil, ""); resp.Status != 200 {
					t.Fatalf("bystander: status %d, want 200", resp.Status)
				}
			}
			var sent, closed, ignored int
			for _, tc := range sets[p.name] {
				t.Run(tc.name, func(t *testing.T) {
					sent++
					before := calls.Load()
					c, r := s.dial(t)
					peer := c.LocalAddr().String()
					if _, err := c.Write(tc.input); err != nil {
						t.Fatalf("writing the input: %v", err)
					}
					if tc.halfClose {
						_ = c.(*net.TCPConn).CloseWrite()
					}
					switch tc.want {
					case refuses:
						resp, err := p.read(r)
						if err != nil {
							t.Fatalf("reading the refusal: %v", err)
						}
						if resp.Status != tc.status {
							t.Errorf("status %d, want %d", resp.Status, tc.status)
						}
					case closesOrIgnores:
						// A well-formed request right behind the input tells the two apart
						// without waiting for a close that may never come.
						if _, err := c.Write(p.request("GET", "/", nil, "")); err != nil {
							closed++
							waitLogged(t, s.log, peer)
							break
						}
						if resp, err := p.read(r); err == nil {
							ignored++
							before++
							if resp.Status != 200 {
								t.Errorf("after the ignored input: status %d, want 200", resp.Status)
							}
							break
						}
						closed++
						waitLogged(t, s.log, peer)
					default:
						data, ok := readToEOF(c)
						if !ok {
							t.Fatalf("the connection is still open %v after the input (read %q)", hangGuard, clip(data))
						}
						closed++
						waitLogged(t, s.log, peer)
					}
					if got := calls.Load(); got != before {
						t.Errorf("the handler ran %d times for the malformed input, want 0", got-before)
					}
					if resp := s.get(t, "/", ""); resp.Status != 200 {
						t.Errorf("a new connection after it: status %d, want 200", resp.Status)
					}
					if by != nil {
						if resp := s.do(t, by, byR, "GET", "/", nil, ""); resp.Status != 200 {
							t.Errorf("the bystander connection after it: status %d, want 200", resp.Status)
						}
					}
				})
			}
			t.Logf("%s: %d malformed inputs sent, %d connections closed, %d inputs ignored; bystander kept: %v",
				p.name, sent, closed, ignored, by != nil && !t.Failed())
		})
	}
}

// TestAJPSecret: with Secret set, a request without it or with another gets 403 and its
// connection closed, without calling the handler; the right one is served.
func TestAJPSecret(t *testing.T) {
	p := protocolNamed(t, "ajp")
	var calls atomic.Int64
	s := start(t, p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}), limits{Secret: "right"})
	for _, tc := range []struct {
		name, secret string
		want         int
	}{{"missing", "", 403}, {"wrong", "wrong", 403}, {"right", "right", 204}} {
		t.Run(tc.name, func(t *testing.T) {
			before := calls.Load()
			c, r := s.dial(t)
			resp := s.do(t, c, r, "GET", "/", nil, tc.secret)
			if resp.Status != tc.want {
				t.Fatalf("status %d, want %d", resp.Status, tc.want)
			}
			if tc.want == 403 {
				if calls.Load() != before {
					t.Errorf("the handler ran for a request with secret %q", tc.secret)
				}
				if _, ok := readToEOF(c); !ok {
					t.Errorf("the connection stayed open after a 403 for secret %q", tc.secret)
				}
			}
		})
	}
}

// waitLogged waits (up to the hang guard) for a log line naming peer: the server may log just
// after it closes the connection.
func waitLogged(t *testing.T, lb *logbuf.Buffer, peer string) {
	t.Helper()
	for deadline := time.Now().Add(hangGuard); ; time.Sleep(5 * time.Millisecond) {
		if lines := lb.LinesWith(peer); len(lines) > 0 {
			t.Logf("logged: %s", lines[0])
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("no log line names the peer %s; log:\n%s", peer, lb.String())
			return
		}
	}
}

func clip(b []byte) []byte {
	if len(b) > 200 {
		return append(b[:200:200], "…"...)
	}
	return b
}
