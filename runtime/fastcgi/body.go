package fastcgi

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync"

	"github.com/appgen/appgen/runtime/internal/serve"
)

var (
	errAborted    = errors.New("fastcgi: request aborted by the web server")
	errConnClosed = errors.New("fastcgi: connection to the web server closed")
	errBodyClosed = errors.New("fastcgi: read of a closed request body")
	errSpillFull  = errors.New("fastcgi: request body does not fit in the server's MaxSpillBytes; try again later")
)

// body is a request's STDIN, filled by the connection's reader goroutine and
// read by the handler. The reader never waits for the handler: the body is
// buffered whole, in memory when CONTENT_LENGTH is at most
// Server.BodyMemoryBytes and in a temporary file otherwise, so one slow
// handler cannot hold up the other requests on its connection. Memory per
// request is therefore bounded by BodyMemoryBytes, and disk by MaxBodyBytes
// per request and MaxSpillBytes in all.
//
// Without CONTENT_LENGTH the body is whatever STDIN carries up to its empty
// record: it starts in memory and moves to a file once it outgrows
// BodyMemoryBytes, and fails with *http.MaxBytesError past MaxBodyBytes.
type body struct {
	mu   sync.Mutex
	cond sync.Cond

	mem  []byte // in-memory body received so far
	roff int    // read offset in mem

	spill    bool   // the body goes to a file
	tempDir  string // where the file goes ("" means os.TempDir())
	file     *os.File
	fileSize int64 // bytes written to file
	fileOff  int64 // read offset in file
	reading  bool  // a Read is using file outside mu

	remaining int64 // bytes of CONTENT_LENGTH still to arrive; -1: no CONTENT_LENGTH
	memLimit  int64 // BodyMemoryBytes, for a body without CONTENT_LENGTH
	limit     int64 // MaxBodyBytes, for a body without CONTENT_LENGTH
	total     int64 // bytes of a body without CONTENT_LENGTH received
	srv       *serve.Server
	reserved  int64 // bytes of srv's MaxSpillBytes this body holds
	eof       bool  // no more bytes will arrive
	err       error // why reads fail (abort, closed connection), once set
	closed    bool  // Close was called: drop what arrives

	// starved is called before a read waits for STDIN: the connection's
	// reader may be this handler's own goroutine (see conn), and must be
	// handed to another.
	starved func()
}

// reset prepares b for a body of length n, or of unknown length when n is
// -1. The caller has reserved n bytes of srv's spill budget when n exceeds
// memLimit.
func (b *body) reset(n, memLimit, limit int64, tempDir string, srv *serve.Server) {
	b.cond.L = &b.mu
	b.mem = b.mem[:0]
	b.roff = 0
	b.spill = n > memLimit
	b.tempDir = tempDir
	b.file, b.fileSize, b.fileOff, b.reading = nil, 0, 0, false
	b.remaining = n
	b.memLimit, b.limit, b.total, b.srv = memLimit, limit, 0, srv
	b.reserved = 0
	if b.spill {
		b.reserved = n
	}
	b.eof = n == 0
	b.err = nil
	b.closed = false
}

// write adds STDIN content from the connection; content beyond
// CONTENT_LENGTH is dropped, as the specification asks. A failure to spill
// to disk fails the body, not the connection.
func (b *body) write(p []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.eof || b.err != nil || b.closed {
		return
	}
	if b.remaining >= 0 {
		if int64(len(p)) > b.remaining {
			p = p[:b.remaining]
		}
		b.remaining -= int64(len(p))
		if b.remaining == 0 {
			b.eof = true
		}
	} else {
		b.total += int64(len(p))
		if b.total > b.limit {
			b.failLocked(&http.MaxBytesError{Limit: b.limit})
			return
		}
		if !b.spill && int64(len(b.mem)-b.roff+len(p)) > b.memLimit {
			// Outgrown memory: what the handler has not read yet moves
			// to the file, and reads continue from there.
			b.spill = true
			rest := b.mem[b.roff:]
			b.mem, b.roff = b.mem[:0], 0
			if !b.toFile(rest) {
				return
			}
		}
	}
	if !b.spill {
		b.mem = append(b.mem, p...)
	} else if !b.toFile(p) {
		return
	}
	b.cond.Broadcast()
}

// toFile appends p to the body's file, creating it on first use, and
// reports false when that failed the body. A body without CONTENT_LENGTH
// reserves its spill budget as it grows.
func (b *body) toFile(p []byte) bool {
	if len(p) == 0 {
		return true
	}
	if b.remaining < 0 {
		if !b.srv.AcquireSpill(int64(len(p))) {
			b.failLocked(errSpillFull)
			return false
		}
		b.reserved += int64(len(p))
	}
	if b.file == nil {
		f, err := os.CreateTemp(b.tempDir, "fastcgi-body-")
		if err != nil {
			b.failLocked(err)
			return false
		}
		// Unlinked at once: the file lives as long as it is open,
		// and nothing is left behind if the process dies.
		os.Remove(f.Name())
		b.file = f
	}
	if _, err := b.file.WriteAt(p, b.fileSize); err != nil {
		b.failLocked(err)
		return false
	}
	b.fileSize += int64(len(p))
	return true
}

// failLocked makes reads fail with err, keeping nothing more; b.mu is held.
func (b *body) failLocked(err error) {
	b.err = err
	b.eof = true
	b.cond.Broadcast()
}

// end marks the end of STDIN (an empty record); a body shorter than
// CONTENT_LENGTH then reads as truncated.
func (b *body) end() {
	b.mu.Lock()
	if !b.eof {
		b.eof = true
		if b.remaining > 0 && b.err == nil {
			b.err = io.ErrUnexpectedEOF
		}
	}
	b.cond.Broadcast()
	b.mu.Unlock()
}

// fail makes reads return err once the data already received is read.
// Aborts and closed connections fail at once, since nobody wants the data.
func (b *body) fail(err error) {
	b.mu.Lock()
	if b.err == nil {
		b.err = err
	}
	b.eof = true
	b.mem = b.mem[:0]
	b.roff = 0
	b.cond.Broadcast()
	b.mu.Unlock()
}

// Read reads the body, waiting for the web server's STDIN records.
func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		if b.closed {
			return 0, errBodyClosed
		}
		if b.roff < len(b.mem) {
			n := copy(p, b.mem[b.roff:])
			b.roff += n
			return n, nil
		}
		if b.fileOff < b.fileSize && !b.reading {
			f, off, n := b.file, b.fileOff, min(int64(len(p)), b.fileSize-b.fileOff)
			b.reading = true
			// The reader goroutine appends past fileSize meanwhile; reading
			// outside the lock keeps disk reads from stalling it.
			b.mu.Unlock()
			m, err := f.ReadAt(p[:n], off)
			b.mu.Lock()
			b.reading = false
			b.fileOff += int64(m)
			b.cond.Broadcast()
			if m > 0 {
				return m, nil
			}
			if err != nil {
				return 0, err
			}
			continue
		}
		if b.err != nil {
			return 0, b.err
		}
		if b.eof && !b.reading {
			return 0, io.EOF
		}
		if len(p) == 0 {
			return 0, nil
		}
		if b.starved != nil {
			b.starved()
		}
		b.cond.Wait()
	}
}

// Close stops the handler's reads; later STDIN records are dropped.
func (b *body) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mem = b.mem[:0]
	b.roff = 0
	b.cond.Broadcast()
	b.mu.Unlock()
	return nil
}

// release frees the temporary file once the request is over; no Read may
// be running, since the handler has returned.
func (b *body) release() {
	b.mu.Lock()
	for b.reading {
		b.cond.Wait()
	}
	if b.file != nil {
		b.file.Close()
		b.file = nil
	}
	if b.reserved > 0 {
		b.srv.ReleaseSpill(b.reserved)
		b.reserved = 0
	}
	b.mu.Unlock()
}
