package fastcgi

import (
	"errors"
	"fmt"

	"github.com/appgen/appgen/runtime/internal/gateway"
)

// errPairs reports a name-value stream that ends inside a pair.
var errPairs = errors.New("name-value pair runs past the end of the stream")

// maxStackPairs is how many params startRequest parses without a heap
// allocation: nginx's fastcgi_params and Apache's variables with a browser's
// two dozen headers fit.
const maxStackPairs = 64

// readLength decodes one name-value length: one byte when its high bit is
// clear, else four bytes with that bit masked off.
func readLength(s string) (n int, size int, err error) {
	if len(s) == 0 {
		return 0, 0, errPairs
	}
	if s[0]>>7 == 0 {
		return int(s[0]), 1, nil
	}
	if len(s) < 4 {
		return 0, 0, errPairs
	}
	n = int(s[0]&0x7f)<<24 | int(s[1])<<16 | int(s[2])<<8 | int(s[3])
	return n, 4, nil
}

// nextPair splits the first name-value pair off a stream (FastCGI 1.0
// section 3.4). The name and value are substrings of s, so a whole
// request's variables cost one string.
func nextPair(s string) (name, value, rest string, err error) {
	nl, a, err := readLength(s)
	if err != nil {
		return "", "", "", err
	}
	vl, b, err := readLength(s[a:])
	if err != nil {
		return "", "", "", err
	}
	s = s[a+b:]
	if nl > len(s) || vl > len(s)-nl {
		return "", "", "", fmt.Errorf("name-value pair of %d+%d bytes with %d left in the stream", nl, vl, len(s))
	}
	return s[:nl], s[nl : nl+vl], s[nl+vl:], nil
}

// parsePairs splits a name-value stream into params, appending to dst.
func parsePairs(dst []gateway.Param, s string) ([]gateway.Param, error) {
	for len(s) > 0 {
		name, value, rest, err := nextPair(s)
		if err != nil {
			return dst, err
		}
		dst = append(dst, gateway.Param{Name: name, Value: value})
		s = rest
	}
	return dst, nil
}

// appendLength encodes a name-value length.
func appendLength(b []byte, n int) []byte {
	if n < 128 {
		return append(b, byte(n))
	}
	return append(b, byte(n>>24)|0x80, byte(n>>16), byte(n>>8), byte(n))
}

// appendPair appends one name-value pair.
func appendPair(b []byte, name, value string) []byte {
	b = appendLength(b, len(name))
	b = appendLength(b, len(value))
	b = append(b, name...)
	return append(b, value...)
}
