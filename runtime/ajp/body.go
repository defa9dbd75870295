package ajp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// body is a request body read with the GET_BODY_CHUNK flow: the web server
// sends the first body packet unasked when Content-Length is positive, and
// one more packet each time the container asks. A chunked body (length
// unknown) is never sent unasked, and ends with an empty body packet.
//
// Only the goroutine running the handler reads it; the connection is idle
// otherwise, so there is no concurrent reader to race with.
type body struct {
	c *conn
	// remaining is what Content-Length still promises; -1 when chunked.
	remaining int64
	// limit is MaxBodyBytes for chunked bodies, whose length is known only
	// at their end; read counts against it.
	limit, read int64
	// data is the unread part of the current packet; it aliases the
	// connection's packet buffer, which is not reused until data is empty.
	data     []byte
	inFlight bool      // a body packet has been sent (or asked for) and not yet read
	start    time.Time // when the body began, for MinBodyRate
	got      int64     // body bytes received, for MinBodyRate
	eof      bool
	err      error
}

// errBodyClosed is returned by Read after the handler has returned, when
// the connection is already busy with the next request.
var errBodyClosed = errors.New("ajp: read of a request body after its handler returned")

func (b *body) Read(p []byte) (int, error) {
	for len(b.data) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		if b.eof {
			return 0, io.EOF
		}
		if !b.inFlight {
			n := b.c.maxBodyData()
			if b.remaining >= 0 && b.remaining < int64(n) {
				n = int(b.remaining)
			}
			b.c.out = appendGetBodyChunk(b.c.out, n)
			if err := b.c.flush(); err != nil {
				b.fail(err)
				return 0, err
			}
			b.inFlight = true
		}
		if err := b.readPacket(); err != nil {
			return 0, err
		}
	}
	n := copy(p, b.data)
	b.data = b.data[n:]
	return n, nil
}

// readPacket reads the body packet in flight. A stream error leaves the
// connection unusable; exceeding MaxBodyBytes does not, since nothing more
// is in flight once this packet is read.
func (b *body) readPacket() error {
	b.c.setBodyDeadline(b.start, b.got)
	b.c.pr.body = true // a body packet is not a request head
	payload, err := b.c.pr.next()
	b.c.pr.body = false
	b.inFlight = false
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if !strings.HasPrefix(err.Error(), "ajp: ") {
			err = fmt.Errorf("ajp: reading a request body packet: %w", err)
		}
		b.fail(err)
		return err
	}
	n := 0
	if len(payload) > 0 {
		if len(payload) < 2 {
			return b.fail(fmt.Errorf("ajp: body packet of %d byte, want 0 or at least 2", len(payload)))
		}
		n = int(binary.BigEndian.Uint16(payload))
		if n > len(payload)-2 {
			return b.fail(fmt.Errorf("ajp: body packet says %d data bytes but holds %d", n, len(payload)-2))
		}
	}
	if n == 0 {
		if b.remaining > 0 {
			return b.fail(fmt.Errorf("ajp: request body ended %d bytes short of its Content-Length: %w", b.remaining, io.ErrUnexpectedEOF))
		}
		b.eof = true
		return nil
	}
	b.data = payload[2 : 2+n]
	b.got += int64(n)
	if b.remaining >= 0 {
		if int64(n) > b.remaining {
			return b.fail(fmt.Errorf("ajp: body packet of %d bytes exceeds the %d left of Content-Length", n, b.remaining))
		}
		b.remaining -= int64(n)
		b.eof = b.remaining == 0
		return nil
	}
	b.read += int64(n)
	if b.read > b.limit {
		b.data = nil
		b.err = &http.MaxBytesError{Limit: b.limit}
		return b.err
	}
	return nil
}

// fail records a stream error: the body is done and so is the connection.
func (b *body) fail(err error) error {
	b.data = nil
	b.err = err
	b.c.broken = true
	if b.c.reason == nil {
		b.c.reason = err
	}
	return err
}

// Close is a no-op for the handler; the connection swallows whatever packet
// is still in flight before it reads the next request.
func (b *body) Close() error { return nil }

// finish is called when the handler has returned: the packet that the web
// server may still be sending must be read off the stream, or it would be
// mistaken for the next request. Only that one packet: the container never
// asked for more, so the web server sends no more.
func (b *body) finish() {
	if b.inFlight && b.err == nil && !b.c.broken {
		if err := b.readPacket(); err != nil && !b.c.broken {
			// MaxBytesError only: the stream is still in step.
			b.err = nil
		}
	}
	b.data = nil
	if b.err == nil {
		b.err = errBodyClosed
	}
}
