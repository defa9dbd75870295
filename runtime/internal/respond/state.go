package respond

import (
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
)

// SniffLen is how much of the body http.DetectContentType looks at.
const SniffLen = 512

// State is the bookkeeping of one response. The zero value is not ready:
// Reset it first, so that Declared starts at -1. It is not safe for
// concurrent use, as an http.ResponseWriter is not.
type State struct {
	// Status is the status WriteHeader fixed; 0 before.
	Status int
	// Written counts the body bytes the handler wrote (Admit and Take
	// add to it, and FailBody).
	Written int64
	// Declared is the handler's Content-Length when it set a valid one,
	// -1 when it set none.
	Declared int64
	// Head is true for the response to a HEAD request: its body is
	// counted, never sent. Default false.
	Head bool
	// Sent is set by the writer once the header is on its way to the
	// peer: nothing can be changed after that. Default false.
	Sent bool

	// upgrade makes 101 a final status rather than an ignored 1xx.
	upgrade bool

	wroteHeader, bodyAllowed, done bool
	hasType, hasTE, hasEncoding    bool
}

// Reset makes s ready for a new response. head says the request is HEAD;
// upgrade says the framing can carry 101 Switching Protocols as a final
// status (a CGI response can, AJP13 cannot), else 101 is ignored as every
// other 1xx code is.
func (s *State) Reset(head, upgrade bool) {
	*s = State{Declared: -1, Head: head, upgrade: upgrade}
}

// WriteHeader applies net/http's rules to the handler's WriteHeader(code)
// with header h. It reports true when code became the status, so the writer
// encodes h now (headers changed later are not sent), and false when the
// call has no effect: a 1xx code, a superfluous call (logged through logf,
// when not nil, with the handler's file and line), or a closed State.
// The caller must be the writer's WriteHeader method, called by the
// handler, for the logged line to name the handler.
func (s *State) WriteHeader(code int, h http.Header, logf func(format string, args ...any)) bool {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if s.done {
		return false
	}
	if s.wroteHeader {
		if logf != nil {
			// Skip this frame and the writer's WriteHeader.
			_, file, line, _ := runtime.Caller(2)
			logf("superfluous WriteHeader(%d) call from %s:%d", code, file, line)
		}
		return false
	}
	if code < 200 && (code != http.StatusSwitchingProtocols || !s.upgrade) {
		return false
	}
	s.wroteHeader = true
	s.Status = code
	s.bodyAllowed = code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
	_, s.hasType = h["Content-Type"]
	_, s.hasTE = h["Transfer-Encoding"]
	if ce := h["Content-Encoding"]; len(ce) > 0 && ce[0] != "" {
		s.hasEncoding = true
	}
	if cl := h["Content-Length"]; len(cl) > 0 {
		if n, err := strconv.ParseInt(strings.TrimSpace(cl[0]), 10, 64); err == nil && n >= 0 {
			s.Declared = n
		}
	}
	return true
}

// WroteHeader reports whether the status is fixed.
func (s *State) WroteHeader() bool { return s.wroteHeader }

// BodyAllowed reports whether the fixed status allows a body.
func (s *State) BodyAllowed() bool { return s.bodyAllowed }

// Admit takes the handler's write of p, once the header is fixed, as
// net/http does. werr is the writer's first error sending the response.
// It reports done when the writer's Write is to return n and err at once:
// the write is refused (werr, which every later write returns, else
// http.ErrBodyNotAllowed, else http.ErrContentLength, with n 0), or the
// request is HEAD and p is counted but not sent, only what sniffing still
// needs of it appended to *buf. Otherwise p is counted and the writer
// frames it.
func (s *State) Admit(buf *[]byte, p []byte, werr error) (n int, done bool, err error) {
	if werr != nil {
		return 0, true, werr
	}
	if !s.bodyAllowed {
		return 0, true, http.ErrBodyNotAllowed
	}
	if s.Declared >= 0 && s.Written+int64(len(p)) > s.Declared {
		return 0, true, http.ErrContentLength
	}
	s.Written += int64(len(p))
	if s.Head {
		*buf = append(*buf, p[:min(len(p), s.SniffWant(len(*buf)))]...)
		return len(p), true, nil
	}
	return len(p), false, nil
}

// Take reports whether a write of n bytes can skip Write's slow paths (the
// header is fixed, the status allows a body, the request is not HEAD, the
// bytes fit the declared length) and counts it when it can. Writers use it
// for WriteString's copy into their buffer.
func (s *State) Take(n int) bool {
	if !s.wroteHeader || !s.bodyAllowed || s.Head || s.done ||
		s.Declared >= 0 && s.Written+int64(n) > s.Declared {
		return false
	}
	s.Written += int64(n)
	return true
}

// SniffWant returns how many more body bytes sniffing needs when buffered
// bytes are held: none once the header has gone.
func (s *State) SniffWant(buffered int) int {
	if s.Sent || buffered >= SniffLen {
		return 0
	}
	return SniffLen - buffered
}

// SniffedType returns the Content-Type to send for a body starting with
// body, sniffed as net/http does, or "" when none is to be added: the
// handler set one, or a Content-Encoding (sniffing compressed bytes would
// be wrong), the status allows no body, or there is no body yet.
func (s *State) SniffedType(body []byte) string {
	if !s.bodyAllowed || s.hasType || s.hasEncoding || len(body) == 0 {
		return ""
	}
	return http.DetectContentType(body[:min(len(body), SniffLen)])
}

// AddLength reports whether the header can carry Content-Length: Written.
// final says the handler is done, so Written is the whole body; a HEAD
// response says nothing of a length it does not know.
func (s *State) AddLength(final bool) bool {
	return final && s.bodyAllowed && s.Declared < 0 && !s.hasTE && (!s.Head || s.Written > 0)
}

// Short reports whether the handler wrote less than the Content-Length it
// declared, which leaves the peer waiting for bytes that never come.
func (s *State) Short() bool {
	return s.Declared >= 0 && s.Written < s.Declared && !s.Head
}

// Fail starts over a response whose header has not been sent (the writer
// checks Sent first; after it, a response can only be cut short) as a
// plain-text one, as servers do after a handler panics: it resets s and
// makes h a header with only a text Content-Type. The writer then calls
// its WriteHeader with the error status and adds the body with FailBody.
func (s *State) Fail(h http.Header) {
	s.Reset(s.Head, s.upgrade)
	clear(h)
	h["Content-Type"] = []string{"text/plain; charset=utf-8"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
}

// FailBody appends the body of a Fail response, the status text and a
// newline, to buf and counts it; it appends nothing when the status allows
// no body or the request is HEAD.
func (s *State) FailBody(buf []byte) []byte {
	if !s.bodyAllowed || s.Head {
		return buf
	}
	n := len(buf)
	buf = append(buf, http.StatusText(s.Status)...)
	buf = append(buf, '\n')
	s.Written += int64(len(buf) - n)
	return buf
}

// Close makes the State refuse everything (WriteHeader has no effect, Take
// reports false) once the handler has returned; the writer returns its own
// error from Write.
func (s *State) Close() { s.done = true }

// Closed reports whether Close was called.
func (s *State) Closed() bool { return s.done }
