package fastcgi

import (
	"encoding/binary"
	"fmt"
)

// Record types, FastCGI 1.0 section 8.
const (
	typeBeginRequest    uint8 = 1
	typeAbortRequest    uint8 = 2
	typeEndRequest      uint8 = 3
	typeParams          uint8 = 4
	typeStdin           uint8 = 5
	typeStdout          uint8 = 6
	typeStderr          uint8 = 7
	typeData            uint8 = 8
	typeGetValues       uint8 = 9
	typeGetValuesResult uint8 = 10
	typeUnknownType     uint8 = 11
)

// Roles and flags of FCGI_BEGIN_REQUEST.
const (
	roleResponder  uint16 = 1
	roleAuthorizer uint16 = 2
	roleFilter     uint16 = 3

	flagKeepConn uint8 = 1
)

// Protocol status of FCGI_END_REQUEST.
const (
	statusRequestComplete uint8 = 0
	statusCantMultiplex   uint8 = 1
	statusOverloaded      uint8 = 2
	statusUnknownRole     uint8 = 3
)

const (
	version1 = 1
	// headerLen is the fixed size of a record header.
	headerLen = 8
	// maxContent is the most content one record carries; a multiple of 8
	// so that full records need no padding.
	maxContent = 65528
)

// header is a decoded record header.
type header struct {
	version       uint8
	typ           uint8
	id            uint16
	contentLength uint16
	paddingLength uint8
}

func parseHeader(b *[headerLen]byte) header {
	return header{
		version:       b[0],
		typ:           b[1],
		id:            binary.BigEndian.Uint16(b[2:4]),
		contentLength: binary.BigEndian.Uint16(b[4:6]),
		paddingLength: b[6],
	}
}

// check is the one test a record header can fail: any 16-bit content
// length and 8-bit padding are valid, so only the version is left.
func (h header) check() error {
	if h.version != version1 {
		return fmt.Errorf("record version %d, want 1", h.version)
	}
	return nil
}

// appendHeader appends a record header for content of n bytes and returns
// the padding the caller must append after the content: records are padded
// to a multiple of 8 bytes, as the specification recommends.
func appendHeader(b []byte, typ uint8, id uint16, n int) ([]byte, int) {
	pad := -n & 7
	return append(b, version1, typ, byte(id>>8), byte(id), byte(n>>8), byte(n), byte(pad), 0), pad
}

var zeros [8]byte

// appendRecords appends p as records of type typ, split at maxContent and
// padded. It appends nothing for an empty p: an empty record means "end of
// stream" and is written on purpose with appendHeader.
func appendRecords(b []byte, typ uint8, id uint16, p []byte) []byte {
	for len(p) > 0 {
		n := min(len(p), maxContent)
		var pad int
		b, pad = appendHeader(b, typ, id, n)
		b = append(b, p[:n]...)
		b = append(b, zeros[:pad]...)
		p = p[n:]
	}
	return b
}

// appendEndRequest appends FCGI_END_REQUEST for request id.
func appendEndRequest(b []byte, id uint16, appStatus uint32, protocolStatus uint8) []byte {
	b, _ = appendHeader(b, typeEndRequest, id, 8)
	return append(b, byte(appStatus>>24), byte(appStatus>>16), byte(appStatus>>8), byte(appStatus), protocolStatus, 0, 0, 0)
}

// appendUnknownType appends FCGI_UNKNOWN_TYPE naming typ.
func appendUnknownType(b []byte, typ uint8) []byte {
	b, _ = appendHeader(b, typeUnknownType, 0, 8)
	return append(b, typ, 0, 0, 0, 0, 0, 0, 0)
}
