package ajp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The framing of AJP13: every packet starts with a two-byte magic that says
// its direction, then a big-endian payload length. The magic doubles as a
// sanity check, so a peer speaking HTTP or FastCGI by mistake is caught on
// its first bytes.
const (
	magicServer0, magicServer1 = 0x12, 0x34 // web server → container
	magicContainer0            = 'A'        // container → web server
	magicContainer1            = 'B'

	headerLen = 4 // magic + length

	// DefaultPacketSize is the packet size of mod_jk, mod_proxy_ajp and
	// Tomcat unless configured otherwise.
	DefaultPacketSize = 8192
	// MaxPacketSize is the largest packet size AJP13 peers accept
	// (mod_proxy_ajp's ProxyIOBufferSize, Tomcat's packetSize).
	MaxPacketSize = 65536
)

// Prefix codes: the first payload byte of every packet except request body
// packets, which carry only data.
const (
	typeForwardRequest = 2  // server → container
	typeSendBodyChunk  = 3  // container → server
	typeSendHeaders    = 4  // container → server
	typeEndResponse    = 5  // container → server
	typeGetBodyChunk   = 6  // container → server
	typeShutdown       = 7  // server → container; never honoured
	typePing           = 8  // server → container; obsolete
	typeCPongReply     = 9  // container → server
	typeCPing          = 10 // server → container
)

// nullString is the length that marks an absent string.
const nullString = 0xFFFF

// errShortPacket is wrapped by every decoding error caused by a payload
// that ends before the field being read.
var errShortPacket = errors.New("packet ends early")

// packetReader reads framed packets from the web server into one reusable
// buffer of the configured packet size, so a connection allocates it once.
type packetReader struct {
	r   io.Reader
	buf []byte // len == packet size
	// began, when set, is called once a packet's header has been read and
	// before its payload is, unless body is set: the connection bounds the
	// rest of a request head from there (Server.ReadHeaderTimeout).
	began func()
	body  bool // the packet expected is a body packet
}

func newPacketReader(r io.Reader, packetSize int) *packetReader {
	return &packetReader{r: r, buf: make([]byte, packetSize)}
}

// next returns the payload of the next packet; it is valid until the
// following call. io.EOF means the peer closed cleanly between packets.
func (p *packetReader) next() ([]byte, error) {
	h := p.buf[:headerLen]
	if _, err := io.ReadFull(p.r, h); err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("ajp: connection closed inside a packet header")
		}
		return nil, err
	}
	if h[0] != magicServer0 || h[1] != magicServer1 {
		return nil, fmt.Errorf("ajp: packet magic %#02x%02x, want 0x1234", h[0], h[1])
	}
	n := int(binary.BigEndian.Uint16(h[2:]))
	if n > len(p.buf)-headerLen {
		return nil, fmt.Errorf("ajp: packet length %d exceeds packet size %d", n+headerLen, len(p.buf))
	}
	payload := p.buf[headerLen : headerLen+n]
	if p.began != nil && !p.body && n > 0 {
		p.began()
	}
	if _, err := io.ReadFull(p.r, payload); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("ajp: connection closed inside a packet of %d bytes", n)
		}
		return nil, err
	}
	return payload, nil
}

// decoder reads AJP13 fields from one packet payload. The first error
// sticks, so a caller can decode a whole structure and check once.
type decoder struct {
	b   []byte
	s   string // the same bytes as b, when strings are to be sliced from it
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *decoder) byte(what string) byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.err = fmt.Errorf("ajp: %w reading %s at offset %d", errShortPacket, what, d.off)
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

// peekUint16 looks at the next integer without consuming it: header names
// are either a code (0xA0xx) or a string length, told apart by the first byte.
func (d *decoder) peekUint16(what string) uint16 {
	if d.err != nil {
		return 0
	}
	if d.off+2 > len(d.b) {
		d.err = fmt.Errorf("ajp: %w reading %s at offset %d", errShortPacket, what, d.off)
		return 0
	}
	return binary.BigEndian.Uint16(d.b[d.off:])
}

func (d *decoder) uint16(what string) uint16 {
	v := d.peekUint16(what)
	if d.err == nil {
		d.off += 2
	}
	return v
}

func (d *decoder) bool(what string) bool {
	switch c := d.byte(what); c {
	case 0:
		return false
	case 1:
		return true
	default:
		d.fail("ajp: %s is byte %d, want a boolean 0 or 1", what, c)
		return false
	}
}

// bytes returns a string field without copying it; ok is false for the
// null string (length 0xFFFF). AJP strings end in a NUL that is not counted
// in their length, and a missing NUL means the framing has gone wrong.
func (d *decoder) bytes(what string) (s []byte, ok bool) {
	n := d.uint16(what)
	if d.err != nil {
		return nil, false
	}
	if n == nullString {
		return nil, false
	}
	end := d.off + int(n)
	if end+1 > len(d.b) {
		d.err = fmt.Errorf("ajp: %w reading %s of %d bytes at offset %d", errShortPacket, what, n, d.off)
		return nil, false
	}
	if d.b[end] != 0 {
		d.err = fmt.Errorf("ajp: %s of %d bytes is not NUL-terminated", what, n)
		return nil, false
	}
	s = d.b[d.off:end]
	d.off = end + 1
	return s, true
}

// str is bytes as a slice of d.s, without a copy.
func (d *decoder) str(what string) (s string, ok bool) {
	start := d.off + 2
	b, ok := d.bytes(what)
	if !ok {
		return "", false
	}
	if d.s == "" {
		return string(b), true
	}
	return d.s[start : start+len(b)], true
}

// string is str without ok: the null string reads as "".
func (d *decoder) string(what string) string {
	s, _ := d.str(what)
	return s
}

// encoder appends AJP13 fields to a packet under construction; begin and
// finish write the container's "AB" frame around them.
type encoder struct {
	b []byte
}

// begin starts a packet at the end of the buffer, returning its start.
func (e *encoder) begin() int {
	start := len(e.b)
	e.b = append(e.b, magicContainer0, magicContainer1, 0, 0)
	return start
}

// finish fills in the length of the packet that begin started.
func (e *encoder) finish(start int) {
	binary.BigEndian.PutUint16(e.b[start+2:], uint16(len(e.b)-start-headerLen))
}

func (e *encoder) byte(c byte) { e.b = append(e.b, c) }

func (e *encoder) uint16(v uint16) { e.b = binary.BigEndian.AppendUint16(e.b, v) }

func (e *encoder) bool(v bool) {
	if v {
		e.byte(1)
	} else {
		e.byte(0)
	}
}

// string appends a length-prefixed, NUL-terminated string. Callers keep
// strings shorter than 0xFFFF, which would read as null.
func (e *encoder) string(s string) {
	e.uint16(uint16(len(s)))
	e.b = append(e.b, s...)
	e.b = append(e.b, 0)
}

// appendCPong appends the reply to a CPing.
func appendCPong(b []byte) []byte {
	e := encoder{b: b}
	start := e.begin()
	e.byte(typeCPongReply)
	e.finish(start)
	return e.b
}

// appendGetBodyChunk asks the web server for up to n more body bytes.
func appendGetBodyChunk(b []byte, n int) []byte {
	e := encoder{b: b}
	start := e.begin()
	e.byte(typeGetBodyChunk)
	e.uint16(uint16(n))
	e.finish(start)
	return e.b
}

// appendEndResponse ends a response; reuse says whether the web server may
// send another request on this connection.
func appendEndResponse(b []byte, reuse bool) []byte {
	e := encoder{b: b}
	start := e.begin()
	e.byte(typeEndResponse)
	e.bool(reuse)
	e.finish(start)
	return e.b
}

// bodyChunkOverhead is what a SEND_BODY_CHUNK packet adds to its data: the
// frame, the prefix code, the chunk length and a trailing NUL that
// mod_proxy_ajp checks for (Tomcat sends it too, though the protocol
// document does not mention it).
const bodyChunkOverhead = headerLen + 1 + 2 + 1

// appendBodyChunk appends one SEND_BODY_CHUNK packet; the caller keeps
// len(data) within the packet size minus bodyChunkOverhead.
func appendBodyChunk(b []byte, data []byte) []byte {
	e := encoder{b: b}
	start := e.begin()
	e.byte(typeSendBodyChunk)
	e.uint16(uint16(len(data)))
	e.b = append(e.b, data...)
	e.byte(0)
	e.finish(start)
	return e.b
}
