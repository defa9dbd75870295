package reliability

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// FastCGI 1.0 record types and constants, as a web server writes them.
const (
	FCGIBeginRequest    = 1
	FCGIAbortRequest    = 2
	FCGIEndRequest      = 3
	FCGIParams          = 4
	FCGIStdin           = 5
	FCGIStdout          = 6
	FCGIStderr          = 7
	FCGIData            = 8
	FCGIGetValues       = 9
	FCGIGetValuesResult = 10
	FCGIUnknownType     = 11

	fcgiResponder  = 1
	fcgiKeepConn   = 1
	fcgiMaxContent = 65535
)

// FCGIRecord is one record with the given padding. It does not check its arguments, so it can
// build the bad records the malformed-input scenario sends; contentLen < 0 uses len(content).
func FCGIRecord(version, typ uint8, id uint16, content []byte, contentLen int, padding uint8) []byte {
	if contentLen < 0 {
		contentLen = len(content)
	}
	b := []byte{version, typ, byte(id >> 8), byte(id), byte(contentLen >> 8), byte(contentLen), padding, 0}
	b = append(b, content...)
	return append(b, make([]byte, padding)...)
}

// FCGIBegin is a well-formed BEGIN_REQUEST for the responder role.
func FCGIBegin(id uint16, keepConn bool) []byte {
	var flags byte
	if keepConn {
		flags = fcgiKeepConn
	}
	return FCGIRecord(1, FCGIBeginRequest, id, []byte{0, fcgiResponder, flags, 0, 0, 0, 0, 0}, -1, 0)
}

// FCGIPairs encodes name-value pairs with 1- or 4-byte lengths as the values need.
func FCGIPairs(pairs ...string) []byte {
	var b []byte
	appendLen := func(n int) {
		if n < 128 {
			b = append(b, byte(n))
			return
		}
		b = binary.BigEndian.AppendUint32(b, uint32(n)|1<<31)
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		appendLen(len(pairs[i]))
		appendLen(len(pairs[i+1]))
		b = append(b, pairs[i]...)
		b = append(b, pairs[i+1]...)
	}
	return b
}

// FCGIStream splits data into records of typ, ending with the empty record that closes a
// stream.
func FCGIStream(typ uint8, id uint16, data []byte) []byte {
	var b []byte
	for len(data) > 0 {
		n := min(len(data), fcgiMaxContent-7) // keep the padding to 8-byte alignment in range
		pad := uint8((8 - n%8) % 8)
		b = append(b, FCGIRecord(1, typ, id, data[:n], -1, pad)...)
		data = data[n:]
	}
	return append(b, FCGIRecord(1, typ, id, nil, -1, 0)...)
}

// FCGIRequest is a complete, well-formed request: BEGIN_REQUEST, PARAMS and STDIN. params are
// name, value pairs; CONTENT_LENGTH is added from the body when params do not set it.
func FCGIRequest(id uint16, keepConn bool, body []byte, params ...string) []byte {
	hasLen := false
	for i := 0; i < len(params); i += 2 {
		hasLen = hasLen || params[i] == "CONTENT_LENGTH"
	}
	if !hasLen {
		params = append(params, "CONTENT_LENGTH", strconv.Itoa(len(body)))
	}
	b := FCGIBegin(id, keepConn)
	b = append(b, FCGIStream(FCGIParams, id, FCGIPairs(params...))...)
	return append(b, FCGIStream(FCGIStdin, id, body)...)
}

// GetParams is the CGI environment of a GET for path, as nginx sends it.
func GetParams(method, path string) []string {
	p, q, _ := strings.Cut(path, "?")
	return []string{
		"REQUEST_METHOD", method, "REQUEST_URI", path, "SCRIPT_NAME", "", "PATH_INFO", p,
		"QUERY_STRING", q, "SERVER_PROTOCOL", "HTTP/1.1", "SERVER_NAME", "127.0.0.1",
		"SERVER_PORT", "80", "REMOTE_ADDR", "127.0.0.1", "REMOTE_PORT", "40000",
		"HTTP_HOST", "example.test",
	}
}

// Response is a response as a raw client read it, whatever the protocol.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// EndStatus is FastCGI's protocolStatus (0 FCGI_REQUEST_COMPLETE, 2 FCGI_OVERLOADED, …) or
	// AJP's END_RESPONSE reuse flag (1 reuse); unused for SCGI.
	EndStatus int
}

// ReadFCGIResponse reads records until the END_REQUEST of request id, collecting its STDOUT
// and parsing it as a CGI response. Records for other IDs are an error: the callers send one
// request at a time unless they read with ReadFCGIResponses.
func ReadFCGIResponse(r *bufio.Reader, id uint16) (Response, error) {
	all, err := ReadFCGIResponses(r, 1)
	if err != nil {
		return Response{}, err
	}
	resp, ok := all[id]
	if !ok {
		return Response{}, fmt.Errorf("reliability: END_REQUEST for another request than %d", id)
	}
	return resp, nil
}

// ReadFCGIResponses reads records until n requests have ended, and returns their responses by
// request ID.
func ReadFCGIResponses(r *bufio.Reader, n int) (map[uint16]Response, error) {
	stdout := map[uint16]*bytes.Buffer{}
	out := map[uint16]Response{}
	var hdr [8]byte
	for len(out) < n {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return out, fmt.Errorf("reliability: reading a FastCGI record header: %w", err)
		}
		if hdr[0] != 1 {
			return out, fmt.Errorf("reliability: FastCGI record version %d, want 1", hdr[0])
		}
		id := binary.BigEndian.Uint16(hdr[2:4])
		content := make([]byte, int(binary.BigEndian.Uint16(hdr[4:6]))+int(hdr[6]))
		if _, err := io.ReadFull(r, content); err != nil {
			return out, fmt.Errorf("reliability: reading a FastCGI record of %d bytes: %w", len(content), err)
		}
		content = content[:binary.BigEndian.Uint16(hdr[4:6])]
		switch hdr[1] {
		case FCGIStdout:
			if stdout[id] == nil {
				stdout[id] = &bytes.Buffer{}
			}
			stdout[id].Write(content)
		case FCGIStderr:
		case FCGIEndRequest:
			if len(content) != 8 {
				return out, fmt.Errorf("reliability: END_REQUEST of %d bytes, want 8", len(content))
			}
			var resp Response
			if b := stdout[id]; b != nil && b.Len() > 0 {
				var err error
				if resp, err = parseCGIResponse(b.Bytes()); err != nil {
					return out, err
				}
			}
			resp.EndStatus = int(content[4])
			out[id] = resp
		default:
			return out, fmt.Errorf("reliability: FastCGI record type %d from the server, want STDOUT, STDERR or END_REQUEST", hdr[1])
		}
	}
	return out, nil
}

// parseCGIResponse reads a CGI response ("Status: 404 Not Found" and headers, then the body);
// without a Status header the status is 200, as CGI says. An "HTTP/1.x" status line is taken too,
// since some SCGI servers answer with one.
func parseCGIResponse(b []byte) (Response, error) {
	r := bufio.NewReader(bytes.NewReader(b))
	resp := Response{Status: http.StatusOK}
	if bytes.HasPrefix(b, []byte("HTTP/")) {
		line, err := r.ReadString('\n')
		if err != nil {
			return resp, fmt.Errorf("reliability: response status line %q: %w", line, err)
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			return resp, fmt.Errorf("reliability: response status line %q, want \"HTTP/1.1 CODE\"", line)
		}
		if resp.Status, err = strconv.Atoi(f[1]); err != nil {
			return resp, fmt.Errorf("reliability: response status line %q: %w", line, err)
		}
	}
	h, err := textproto.NewReader(r).ReadMIMEHeader()
	if err != nil {
		return resp, fmt.Errorf("reliability: response headers: %w", err)
	}
	resp.Header = http.Header(h)
	if s := resp.Header.Get("Status"); s != "" {
		code, _, _ := strings.Cut(s, " ")
		if resp.Status, err = strconv.Atoi(code); err != nil {
			return resp, fmt.Errorf("reliability: Status header %q, want a code first", s)
		}
	}
	resp.Body, err = io.ReadAll(r)
	return resp, err
}
