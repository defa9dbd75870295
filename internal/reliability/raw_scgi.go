package reliability

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// SCGINetstring wraps header in a netstring: "LEN:" header ",".
func SCGINetstring(header []byte) []byte {
	b := strconv.AppendInt(nil, int64(len(header)), 10)
	b = append(b, ':')
	b = append(b, header...)
	return append(b, ',')
}

// SCGIHeader encodes name, value pairs as SCGI's NUL-separated header block, in the order given.
func SCGIHeader(pairs ...string) []byte {
	var b []byte
	for _, s := range pairs {
		b = append(b, s...)
		b = append(b, 0)
	}
	return b
}

// SCGIRequest is a complete, well-formed request: CONTENT_LENGTH first, then SCGI=1 and params,
// then the body.
func SCGIRequest(body []byte, params ...string) []byte {
	pairs := append([]string{"CONTENT_LENGTH", strconv.Itoa(len(body)), "SCGI", "1"}, params...)
	return append(SCGINetstring(SCGIHeader(pairs...)), body...)
}

// ReadSCGIResponse reads a CGI-style response up to the end of the connection, which is how an
// SCGI server marks the end of a response.
func ReadSCGIResponse(r *bufio.Reader) (Response, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return Response{}, fmt.Errorf("reliability: reading an SCGI response: %w", err)
	}
	if len(b) == 0 {
		return Response{}, fmt.Errorf("reliability: SCGI response is empty: %w", io.ErrUnexpectedEOF)
	}
	return parseCGIResponse(b)
}
