package ajp

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"testing"

	"github.com/appgen/appgen/runtime/testsupport/logbuf"
	"github.com/appgen/appgen/runtime/testsupport/pipenet"
)

// The builders below write packets as mod_proxy_ajp does, field by field,
// so each test states exactly what crosses the wire.

type hdr struct {
	code        uint16 // 0xA0xx, or 0 for a named header
	name, value string
}

type attr struct {
	code        byte
	name, value string // name only for req_attribute
	num         uint16 // ssl_key_size
}

type fwd struct {
	method     byte
	protocol   string
	uri        string
	remoteAddr string
	remoteHost string
	serverName string
	port       uint16
	ssl        bool
	headers    []hdr
	attrs      []attr
}

// get returns a plain GET for uri as Apache would send it, with a Host.
func get(uri string) fwd {
	return fwd{method: 2, protocol: "HTTP/1.1", uri: uri, remoteAddr: "192.0.2.7", serverName: "example.org",
		port: 80, headers: []hdr{{code: 0xA00B, value: "example.org"}}}
}

func post(uri string, contentLength int) fwd {
	f := get(uri)
	f.method = 4
	f.headers = append(f.headers, hdr{code: 0xA008, value: fmt.Sprint(contentLength)})
	return f
}

type wbuf struct{ b []byte }

func (w *wbuf) u8(c byte)    { w.b = append(w.b, c) }
func (w *wbuf) u16(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *wbuf) str(s string) {
	w.u16(uint16(len(s)))
	w.b = append(w.b, s...)
	w.u8(0)
}
func (w *wbuf) null() { w.u16(0xFFFF) }

// frame wraps a payload as a web-server packet.
func frame(payload []byte) []byte {
	b := []byte{0x12, 0x34, 0, 0}
	binary.BigEndian.PutUint16(b[2:], uint16(len(payload)))
	return append(b, payload...)
}

func (f fwd) payload() []byte {
	var w wbuf
	w.u8(typeForwardRequest)
	w.u8(f.method)
	w.str(f.protocol)
	w.str(f.uri)
	w.str(f.remoteAddr)
	if f.remoteHost == "" {
		w.null()
	} else {
		w.str(f.remoteHost)
	}
	w.str(f.serverName)
	w.u16(f.port)
	if f.ssl {
		w.u8(1)
	} else {
		w.u8(0)
	}
	w.u16(uint16(len(f.headers)))
	for _, h := range f.headers {
		if h.code != 0 {
			w.u16(h.code)
		} else {
			w.str(h.name)
		}
		w.str(h.value)
	}
	for _, a := range f.attrs {
		w.u8(a.code)
		switch a.code {
		case attrReqAttr:
			w.str(a.name)
			w.str(a.value)
		case attrSSLKeySize:
			w.u16(a.num)
		default:
			w.str(a.value)
		}
	}
	w.u8(attrAreDone)
	return w.b
}

func (f fwd) packet() []byte { return frame(f.payload()) }

// bodyPacket is a request body packet; empty data is the end of a chunked
// body, as mod_proxy_ajp sends it (a zero data length).
func bodyPacket(data string) []byte {
	var w wbuf
	w.u16(uint16(len(data)))
	w.b = append(w.b, data...)
	return frame(w.b)
}

func cping() []byte { return frame([]byte{typeCPing}) }

// reply is one container packet, decoded.
type reply struct {
	kind    byte
	status  int
	msg     string
	headers []hdr // names decoded from codes
	data    string
	n       int  // GET_BODY_CHUNK's requested length
	reuse   bool // END_RESPONSE
}

func (r reply) String() string {
	switch r.kind {
	case typeSendHeaders:
		return fmt.Sprintf("headers %d %q %v", r.status, r.msg, r.headers)
	case typeSendBodyChunk:
		return fmt.Sprintf("chunk %q", r.data)
	case typeEndResponse:
		return fmt.Sprintf("end reuse=%v", r.reuse)
	case typeGetBodyChunk:
		return fmt.Sprintf("get %d", r.n)
	case typeCPongReply:
		return "cpong"
	}
	return fmt.Sprintf("type %d", r.kind)
}

var responseHeaderNames = func() map[uint16]string {
	m := map[uint16]string{}
	for k, v := range responseHeaderCodes {
		m[v] = k
	}
	return m
}()

// readReply reads and checks one container packet.
func readReply(r *bufio.Reader) (reply, error) {
	h := make([]byte, 4)
	if _, err := io.ReadFull(r, h); err != nil {
		return reply{}, err
	}
	if h[0] != 'A' || h[1] != 'B' {
		return reply{}, fmt.Errorf("magic %q, want AB", h[:2])
	}
	p := make([]byte, binary.BigEndian.Uint16(h[2:]))
	if _, err := io.ReadFull(r, p); err != nil {
		return reply{}, err
	}
	d := decoder{b: p}
	rp := reply{kind: d.byte("type")}
	switch rp.kind {
	case typeSendHeaders:
		rp.status = int(d.uint16("status"))
		rp.msg = d.string("msg")
		n := int(d.uint16("count"))
		for i := 0; i < n; i++ {
			var name string
			if c := d.peekUint16("name"); c>>8 == 0xA0 {
				d.off += 2
				name = responseHeaderNames[c]
				if name == "" {
					return rp, fmt.Errorf("unknown response header code %#x", c)
				}
			} else {
				name = d.string("name")
			}
			rp.headers = append(rp.headers, hdr{name: name, value: d.string("value")})
		}
	case typeSendBodyChunk:
		n := int(d.uint16("len"))
		if d.off+n+1 != len(p) || p[len(p)-1] != 0 {
			return rp, fmt.Errorf("body chunk of %d bytes in a payload of %d, want length+4 with a trailing NUL", n, len(p))
		}
		rp.data = string(p[d.off : d.off+n])
		d.off += n + 1
	case typeEndResponse:
		rp.reuse = d.bool("reuse")
	case typeGetBodyChunk:
		rp.n = int(d.uint16("len"))
	case typeCPongReply:
	default:
		return rp, fmt.Errorf("unknown packet type %d", rp.kind)
	}
	if d.err != nil {
		return rp, d.err
	}
	if d.off != len(p) {
		return rp, fmt.Errorf("%v: %d trailing bytes", rp, len(p)-d.off)
	}
	return rp, nil
}

// resp is a whole response as the web server would assemble it.
type resp struct {
	status  int
	header  http.Header
	body    string
	chunks  int
	gets    []int // GET_BODY_CHUNK lengths asked, in order
	reuse   bool
	flushes int // empty SEND_BODY_CHUNKs
}

// readResponse reads packets up to END_RESPONSE, answering each
// GET_BODY_CHUNK with the next of feed (an empty packet when none is left).
func readResponse(r *bufio.Reader, w io.Writer, feed ...string) (resp, error) {
	out := resp{header: http.Header{}}
	for {
		rp, err := readReply(r)
		if err != nil {
			return out, err
		}
		switch rp.kind {
		case typeSendHeaders:
			if out.status != 0 {
				return out, errors.New("second SEND_HEADERS")
			}
			out.status = rp.status
			for _, h := range rp.headers {
				out.header.Add(h.name, h.value)
			}
		case typeSendBodyChunk:
			if out.status == 0 {
				return out, errors.New("body chunk before SEND_HEADERS")
			}
			if rp.data == "" {
				out.flushes++
			}
			out.body += rp.data
			out.chunks++
		case typeGetBodyChunk:
			out.gets = append(out.gets, rp.n)
			next := ""
			if len(feed) > 0 {
				next, feed = feed[0], feed[1:]
			}
			if _, err := w.Write(bodyPacket(next)); err != nil {
				return out, err
			}
		case typeEndResponse:
			out.reuse = rp.reuse
			return out, nil
		default:
			return out, fmt.Errorf("unexpected %v", rp)
		}
	}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }

// start serves srv on an in-memory listener for the test's duration and
// returns the listener to dial and the log.
func start(t *testing.T, srv *Server) (*pipenet.Listener, *logbuf.Buffer) {
	t.Helper()
	logs := &logbuf.Buffer{}
	if srv.ErrorLog == nil {
		srv.ErrorLog = log.New(logs, "", 0)
	}
	l := pipenet.Listen(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8009})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != http.ErrServerClosed {
			t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
		}
	})
	return l, logs
}

// client is the web server's end of one connection.
type client struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	werr chan error
}

func dial(t *testing.T, l *pipenet.Listener) *client {
	t.Helper()
	c, err := l.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, conn: c, r: bufio.NewReader(c), werr: make(chan error, 16)}
}

// send writes packets from another goroutine: net.Pipe has no buffer, and
// the server may answer before it has read everything, as it may over TCP.
func (c *client) send(packets ...[]byte) {
	var all []byte
	for _, p := range packets {
		all = append(all, p...)
	}
	go func() {
		_, err := c.conn.Write(all)
		c.werr <- err
	}()
}

// roundTrip sends packets and reads the response, feeding body chunks.
func (c *client) roundTrip(feed []string, packets ...[]byte) resp {
	c.t.Helper()
	c.send(packets...)
	r, err := readResponse(c.r, c.conn, feed...)
	if err != nil {
		c.t.Fatalf("reading response: %v", err)
	}
	// A server that refuses a request may close before reading all of it.
	if err := <-c.werr; err != nil && r.reuse {
		c.t.Fatalf("writing request: %v", err)
	}
	return r
}

// closed reports whether the server closed the connection (reads EOF).
func (c *client) closed() bool {
	_, err := c.r.ReadByte()
	return err == io.EOF
}
