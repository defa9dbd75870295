package reliability

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// AJP13 prefix codes and attribute codes, as Tomcat's AJP13 protocol document numbers them.
const (
	AJPForwardRequest = 2
	AJPShutdown       = 7
	AJPPing           = 8
	AJPCPing          = 10

	ajpSendBodyChunk = 3
	ajpSendHeaders   = 4
	ajpEndResponse   = 5
	ajpGetBodyChunk  = 6
	ajpCPong         = 9

	ajpAttrQueryString = 0x05
	ajpAttrSecret      = 0x0C
	ajpAttrAreDone     = 0xFF
)

// ajpMethods are the method codes this client sends; others are not needed by the scenarios.
var ajpMethods = map[string]byte{"OPTIONS": 1, "GET": 2, "HEAD": 3, "POST": 4, "PUT": 5, "DELETE": 6}

// ajpResponseHeaders maps the response header codes (0xA001 …) to names.
var ajpResponseHeaders = map[uint16]string{
	0xA001: "Content-Type", 0xA002: "Content-Language", 0xA003: "Content-Length", 0xA004: "Date",
	0xA005: "Last-Modified", 0xA006: "Location", 0xA007: "Set-Cookie", 0xA008: "Set-Cookie2",
	0xA009: "Servlet-Engine", 0xA00A: "Status", 0xA00B: "WWW-Authenticate",
}

// AJPPacket frames payload as a web server → container packet (0x1234, length, payload);
// length < 0 uses len(payload), anything else is written as is so bad lengths can be sent.
func AJPPacket(payload []byte, length int) []byte {
	if length < 0 {
		length = len(payload)
	}
	b := []byte{0x12, 0x34, byte(length >> 8), byte(length)}
	return append(b, payload...)
}

func ajpString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	b = append(b, s...)
	return append(b, 0)
}

// AJPRequest is a FORWARD_REQUEST for method and uri (the query string goes in its attribute),
// then the body as data packets of at most 8 KiB less framing, ended by an empty one when the
// body is not empty. headers are name, value pairs sent as strings; Content-Length is added
// from the body when the body is not empty. secret, when not empty, is sent as the secret
// attribute.
func AJPRequest(method, uri string, body []byte, secret string, headers ...string) []byte {
	path, query, _ := strings.Cut(uri, "?")
	p := []byte{AJPForwardRequest, ajpMethods[method]}
	p = ajpString(p, "HTTP/1.1")
	p = ajpString(p, path)
	p = ajpString(p, "127.0.0.1") // remote_addr
	p = ajpString(p, "localhost") // remote_host
	p = ajpString(p, "example.test")
	p = binary.BigEndian.AppendUint16(p, 80)
	p = append(p, 0) // is_ssl
	if len(body) > 0 {
		headers = append(headers, "Content-Length", strconv.Itoa(len(body)))
	}
	headers = append([]string{"Host", "example.test"}, headers...)
	p = binary.BigEndian.AppendUint16(p, uint16(len(headers)/2))
	for i := 0; i+1 < len(headers); i += 2 {
		p = ajpString(p, headers[i])
		p = ajpString(p, headers[i+1])
	}
	if query != "" {
		p = append(p, ajpAttrQueryString)
		p = ajpString(p, query)
	}
	if secret != "" {
		p = append(p, ajpAttrSecret)
		p = ajpString(p, secret)
	}
	p = append(p, ajpAttrAreDone)
	b := AJPPacket(p, -1)
	if len(body) == 0 {
		return b
	}
	for len(body) > 0 {
		n := min(len(body), 8192-6)
		chunk := binary.BigEndian.AppendUint16(nil, uint16(n))
		b = append(b, AJPPacket(append(chunk, body[:n]...), -1)...)
		body = body[n:]
	}
	return append(b, AJPPacket(nil, -1)...)
}

// ReadAJPResponse reads container packets until END_RESPONSE. It does not answer
// GET_BODY_CHUNK: callers that send the whole body up front (AJPRequest) never need to, as
// the extra chunks are already on the wire.
func ReadAJPResponse(r *bufio.Reader) (Response, error) {
	var resp Response
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return resp, fmt.Errorf("reliability: reading an AJP packet header: %w", err)
		}
		if hdr[0] != 'A' || hdr[1] != 'B' {
			return resp, fmt.Errorf("reliability: AJP packet magic %q, want \"AB\"", hdr[:2])
		}
		p := make([]byte, binary.BigEndian.Uint16(hdr[2:]))
		if _, err := io.ReadFull(r, p); err != nil {
			return resp, fmt.Errorf("reliability: reading an AJP packet of %d bytes: %w", len(p), err)
		}
		if len(p) == 0 {
			return resp, fmt.Errorf("reliability: empty AJP packet from the container")
		}
		switch p[0] {
		case ajpSendHeaders:
			if err := parseAJPHeaders(p[1:], &resp); err != nil {
				return resp, err
			}
		case ajpSendBodyChunk:
			if len(p) < 3 || int(binary.BigEndian.Uint16(p[1:3])) > len(p)-3 {
				return resp, fmt.Errorf("reliability: SEND_BODY_CHUNK of %d bytes has a bad length", len(p))
			}
			resp.Body = append(resp.Body, p[3:3+binary.BigEndian.Uint16(p[1:3])]...)
		case ajpGetBodyChunk:
		case ajpEndResponse:
			if len(p) >= 2 {
				resp.EndStatus = int(p[1])
			}
			return resp, nil
		case ajpCPong:
			return resp, nil
		default:
			return resp, fmt.Errorf("reliability: AJP packet type %d from the container", p[0])
		}
	}
}

func parseAJPHeaders(p []byte, resp *Response) error {
	bad := fmt.Errorf("reliability: SEND_HEADERS packet of %d bytes is cut short", len(p)+1)
	str := func() (string, bool) {
		if len(p) < 2 {
			return "", false
		}
		n := int(binary.BigEndian.Uint16(p))
		if n == 0xFFFF {
			p = p[2:]
			return "", true
		}
		if len(p) < 2+n+1 {
			return "", false
		}
		s := string(p[2 : 2+n])
		p = p[2+n+1:]
		return s, true
	}
	if len(p) < 2 {
		return bad
	}
	resp.Status = int(binary.BigEndian.Uint16(p))
	p = p[2:]
	if _, ok := str(); !ok {
		return bad
	}
	if len(p) < 2 {
		return bad
	}
	n := int(binary.BigEndian.Uint16(p))
	p = p[2:]
	resp.Header = http.Header{}
	for range n {
		if len(p) < 2 {
			return bad
		}
		var name string
		if code := binary.BigEndian.Uint16(p); code>>8 == 0xA0 {
			name = ajpResponseHeaders[code]
			p = p[2:]
		} else {
			var ok bool
			if name, ok = str(); !ok {
				return bad
			}
		}
		v, ok := str()
		if !ok {
			return bad
		}
		resp.Header.Add(name, v)
	}
	return nil
}
