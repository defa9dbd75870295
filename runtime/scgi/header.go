package scgi

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/appgen/appgen/runtime/internal/gateway"
)

// linearDupLimit is how many parameters are checked for duplicates by a
// scan before a map takes over.
const linearDupLimit = 64

// maxLengthDigits bounds the digits of a netstring length read before the
// limit is checked, so "99999…" cannot keep the reader going.
const maxLengthDigits = 10

// readHeader reads the request's netstring ("<length>:<params>,") from r,
// refusing lengths over max, and returns its parameters and CONTENT_LENGTH
// (-1 when the header has none: the body is the rest of the stream).
func readHeader(r *bufio.Reader, max int) ([]gateway.Param, int64, error) {
	n, err := readLength(r, max)
	if err != nil {
		return nil, 0, err
	}
	// parseParams copies the header into one string, so a header that
	// fits the reader's buffer is parsed in place rather than copied twice.
	var buf []byte
	if n <= r.Size() {
		buf, err = r.Peek(n)
	} else {
		buf = make([]byte, n)
		_, err = io.ReadFull(r, buf)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("scgi: connection closed inside a %d-byte header: %w", n, unexpected(err))
	}
	params, contentLength, err := parseParams(buf)
	if err != nil {
		return nil, 0, err
	}
	if n <= r.Size() {
		r.Discard(n)
	}
	c, err := r.ReadByte()
	if err != nil {
		return nil, 0, fmt.Errorf("scgi: connection closed before the netstring's ',': %w", unexpected(err))
	}
	if c != ',' {
		return nil, 0, fmt.Errorf("scgi: netstring of %d bytes ends with %q, want ','", n, c)
	}
	return params, contentLength, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readLength reads the netstring's decimal length and its ':'. Leading
// zeros are refused, as the netstring definition requires: a peer sending
// them is not speaking SCGI, or is trying to confuse a parser.
func readLength(r *bufio.Reader, max int) (int, error) {
	var digits [maxLengthDigits]byte
	n := 0
	for {
		c, err := r.ReadByte()
		if err != nil {
			if n > 0 {
				err = unexpected(err)
			}
			if err == io.EOF {
				return 0, err // closed before a request began: not an error
			}
			return 0, fmt.Errorf("scgi: connection closed inside the netstring length %q: %w", digits[:n], err)
		}
		if c == ':' {
			break
		}
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("scgi: netstring length %q followed by %q, want digits and ':'", digits[:n], c)
		}
		if n == len(digits) {
			return 0, fmt.Errorf("scgi: netstring length %q… exceeds limit %d", digits[:n], max)
		}
		digits[n] = c
		n++
	}
	switch {
	case n == 0:
		return 0, fmt.Errorf("scgi: netstring length is empty, want digits before ':'")
	case n > 1 && digits[0] == '0':
		return 0, fmt.Errorf("scgi: netstring length %q has a leading zero", digits[:n])
	}
	length, _ := strconv.Atoi(string(digits[:n]))
	if length > max {
		return 0, fmt.Errorf("scgi: netstring length %d exceeds limit %d", length, max)
	}
	return length, nil
}

// parseParams splits the header's NUL-terminated names and values. The
// SCGI rules are kept strictly, since a web server never breaks them and a
// lenient parser is how one request is made to look like another:
// CONTENT_LENGTH comes first and is a plain decimal, SCGI is "1", no name
// is empty or repeated. One rule is relaxed: a header without any
// CONTENT_LENGTH is a body of unknown length (-1), which is what the
// connection carries, rather than a request to drop: a server that
// streams a body it has not measured cannot say its length.
func parseParams(b []byte) ([]gateway.Param, int64, error) {
	if len(b) == 0 {
		return nil, 0, fmt.Errorf("scgi: header is empty, want CONTENT_LENGTH first")
	}
	if b[len(b)-1] != 0 {
		return nil, 0, fmt.Errorf("scgi: header does not end with NUL")
	}
	// One string for the whole header, which names and values slice:
	// one allocation instead of two per parameter.
	s := string(b)
	fields := 0
	for i := 0; i < len(b); i++ {
		if b[i] == 0 {
			fields++
		}
	}
	if fields%2 != 0 {
		return nil, 0, fmt.Errorf("scgi: header has %d NUL-terminated strings, want name and value pairs", fields)
	}
	params := make([]gateway.Param, 0, fields/2)
	contentLength := int64(-1)
	haveSCGI := false
	var seen map[string]struct{}
	for len(s) > 0 {
		i := indexNUL(s)
		name := s[:i]
		s = s[i+1:]
		j := indexNUL(s)
		value := s[:j]
		s = s[j+1:]
		if name == "" {
			return nil, 0, fmt.Errorf("scgi: header name %d is empty", len(params)+1)
		}
		if seen != nil {
			if _, dup := seen[name]; dup {
				return nil, 0, fmt.Errorf("scgi: header %q appears twice", name)
			}
			seen[name] = struct{}{}
		} else {
			for k := range params {
				if params[k].Name == name {
					return nil, 0, fmt.Errorf("scgi: header %q appears twice", name)
				}
			}
			if len(params) == linearDupLimit {
				// Past a web server's usual few dozen, a quadratic scan
				// would let a large header cost more than its size.
				seen = make(map[string]struct{}, fields/2)
				for k := range params {
					seen[params[k].Name] = struct{}{}
				}
				seen[name] = struct{}{}
			}
		}
		if len(params) == 0 && name == "CONTENT_LENGTH" {
			n, err := parseLength(value)
			if err != nil {
				return nil, 0, err
			}
			contentLength = n
		} else if name == "CONTENT_LENGTH" {
			return nil, 0, fmt.Errorf("scgi: CONTENT_LENGTH is header %d, want it first", len(params)+1)
		}
		if name == "SCGI" {
			if value != "1" {
				return nil, 0, fmt.Errorf("scgi: header SCGI is %q, want \"1\"", value)
			}
			haveSCGI = true
		}
		params = append(params, gateway.Param{Name: name, Value: value})
	}
	if !haveSCGI {
		return nil, 0, fmt.Errorf("scgi: header SCGI is missing, want SCGI=1")
	}
	return params, contentLength, nil
}

func indexNUL(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return i
		}
	}
	return len(s) // unreachable: parseParams counted the NULs
}

// parseLength parses CONTENT_LENGTH: digits only, no sign, no spaces, and
// no leading zeros except for "0" itself.
func parseLength(v string) (int64, error) {
	bad := v == "" || len(v) > 1 && v[0] == '0' || len(v) > 18
	for i := 0; i < len(v) && !bad; i++ {
		bad = v[i] < '0' || v[i] > '9'
	}
	if bad {
		return 0, fmt.Errorf("scgi: CONTENT_LENGTH %q, want a decimal number without leading zeros", v)
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n, nil
}
