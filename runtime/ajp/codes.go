package ajp

// The coded names of AJP13: the web server sends common methods, request
// headers and attributes as one-byte or two-byte codes instead of strings,
// and the container may do the same for common response headers.

// methods maps method codes to names. Codes 8 to 27 are the WebDAV and
// versioning methods that mod_jk and mod_proxy_ajp added after the
// original protocol document.
var methods = [...]string{
	1:  "OPTIONS",
	2:  "GET",
	3:  "HEAD",
	4:  "POST",
	5:  "PUT",
	6:  "DELETE",
	7:  "TRACE",
	8:  "PROPFIND",
	9:  "PROPPATCH",
	10: "MKCOL",
	11: "COPY",
	12: "MOVE",
	13: "LOCK",
	14: "UNLOCK",
	15: "ACL",
	16: "REPORT",
	17: "VERSION-CONTROL",
	18: "CHECKIN",
	19: "CHECKOUT",
	20: "UNCHECKOUT",
	21: "SEARCH",
	22: "MKWORKSPACE",
	23: "UPDATE",
	24: "LABEL",
	25: "MERGE",
	26: "BASELINE-CONTROL",
	27: "MKACTIVITY",
}

// methodStored says the method is not coded: its name follows in the
// stored_method attribute (mod_proxy_ajp uses it for methods it has no
// code for, such as PATCH).
const methodStored = 0xFF

// headerCodePrefix is the first byte of a coded header name. A header name
// string cannot start with it, as no packet holds a string of 0xA000 bytes
// or more besides one at the very limit of a 64 KiB packet.
const headerCodePrefix = 0xA0

// requestHeaders maps the low byte of request header codes (0xA001 …) to
// canonical header names.
var requestHeaders = [...]string{
	0x01: "Accept",
	0x02: "Accept-Charset",
	0x03: "Accept-Encoding",
	0x04: "Accept-Language",
	0x05: "Authorization",
	0x06: "Connection",
	0x07: "Content-Type",
	0x08: "Content-Length",
	0x09: "Cookie",
	0x0A: "Cookie2",
	0x0B: "Host",
	0x0C: "Pragma",
	0x0D: "Referer",
	0x0E: "User-Agent",
}

// responseHeaderCodes maps canonical response header names to their codes.
var responseHeaderCodes = map[string]uint16{
	"Content-Type":     0xA001,
	"Content-Language": 0xA002,
	"Content-Length":   0xA003,
	"Date":             0xA004,
	"Last-Modified":    0xA005,
	"Location":         0xA006,
	"Set-Cookie":       0xA007,
	"Set-Cookie2":      0xA008,
	"Servlet-Engine":   0xA009,
	"Status":           0xA00A,
	"Www-Authenticate": 0xA00B,
}

// Attribute codes, after the headers of a FORWARD_REQUEST.
const (
	attrContextPath = 0x01 // defined but never implemented: refused
	attrServletPath = 0x02 // defined but never implemented: refused
	attrRemoteUser  = 0x03
	attrAuthType    = 0x04
	attrQueryString = 0x05
	attrRoute       = 0x06 // jvm_route
	attrSSLCert     = 0x07
	attrSSLCipher   = 0x08
	attrSSLSession  = 0x09
	attrReqAttr     = 0x0A // a name/value pair
	attrSSLKeySize  = 0x0B
	attrSecret      = 0x0C
	attrStoredMeth  = 0x0D
	attrAreDone     = 0xFF
)
