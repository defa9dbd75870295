package ajp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/appgen/appgen/runtime/internal/request"
	"github.com/appgen/appgen/runtime/internal/respond"
)

// forwardRequest is a decoded FORWARD_REQUEST packet, before it becomes an
// *http.Request. Keeping the two apart lets the decoder be fuzzed and the
// security checks (secret, attributes, framing headers) run before any
// handler-visible value exists.
type forwardRequest struct {
	method     string
	protocol   string
	uri        string // req_uri: the path, percent-encoded, without the query
	remoteAddr string
	serverName string
	serverPort uint16
	isSSL      bool

	// header holds the request headers in arrival order, names canonical.
	header []request.Param

	// contentLength is the Content-Length header, -1 when absent.
	contentLength int64
	// chunked is set by a Transfer-Encoding header: the body's length is
	// unknown and ends with an empty body packet.
	chunked bool

	query      string
	hasQuery   bool
	remotePort string // AJP_REMOTE_PORT
	secret     string
	hasSecret  bool
	attrs      Attributes
}

// requestError is a request that is well framed but refused: the
// connection answers it with status, then closes, because what follows on
// the wire (body packets) can no longer be trusted.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func refuse(status int, format string, args ...any) error {
	return &requestError{status: status, msg: fmt.Sprintf(format, args...)}
}

// decodeForwardRequest decodes the payload of a FORWARD_REQUEST packet
// (prefix code included). A *requestError means a well-formed request that
// must be refused; any other error means the stream is not AJP13.
func decodeForwardRequest(p []byte) (*forwardRequest, error) {
	fr := new(forwardRequest)
	if err := fr.decode(p); err != nil {
		return nil, err
	}
	return fr, nil
}

// decode is decodeForwardRequest into fr, which a connection reuses for
// each of its requests, keeping its header slice.
func (fr *forwardRequest) decode(p []byte) error {
	// Every string of the request is a slice of one copy of the packet:
	// one allocation instead of one per header.
	d := decoder{b: p, s: string(p)}
	if c := d.byte("prefix code"); d.err == nil && c != typeForwardRequest {
		return fmt.Errorf("ajp: packet type %d, want FORWARD_REQUEST (2)", c)
	}
	*fr = forwardRequest{contentLength: -1, header: fr.header[:0]}
	methodCode := d.byte("method")
	fr.protocol = d.string("protocol")
	uri, ok := d.str("req_uri")
	fr.uri = uri
	fr.remoteAddr = d.string("remote_addr")
	fr.attrs.RemoteHost = d.string("remote_host")
	fr.serverName = d.string("server_name")
	fr.serverPort = d.uint16("server_port")
	fr.isSSL = d.bool("is_ssl")
	n := int(d.uint16("num_headers"))
	if d.err != nil {
		return d.err
	}
	if !ok || fr.uri == "" {
		return refuse(400, "ajp: req_uri is empty, want a path")
	}
	var refused error
	for i := 0; i < n && d.err == nil; i++ {
		var name string
		if code := d.peekUint16("header name"); d.err == nil && code>>8 == headerCodePrefix {
			d.off += 2
			if low := int(code & 0xFF); low < len(requestHeaders) && requestHeaders[low] != "" {
				name = requestHeaders[low]
			} else {
				return fmt.Errorf("ajp: request header code %#04x, want 0xA001 to 0xA00E", code)
			}
		} else {
			raw, ok := d.str("header name")
			if d.err != nil {
				break
			}
			if !ok || !respond.IsToken(raw) {
				if refused == nil {
					refused = refuse(400, "ajp: request header name %q is not an HTTP token", raw)
				}
				d.string("header value")
				continue
			}
			name = canonicalName(raw)
		}
		value := d.string("header value")
		if d.err != nil {
			break
		}
		if !validHeaderValue(value) && refused == nil {
			refused = refuse(400, "ajp: value of request header %s contains a control character", name)
		}
		if refused == nil {
			refused = fr.framingHeader(name, value)
		}
		fr.header = append(fr.header, request.Param{Name: name, Value: value})
	}
	if d.err != nil {
		return d.err
	}
	storedMethod := ""
	for done := false; !done; {
		code := d.byte("attribute code")
		if d.err != nil {
			return d.err
		}
		switch code {
		case attrAreDone:
			done = true
		case attrRemoteUser:
			fr.attrs.RemoteUser = d.string("remote_user")
		case attrAuthType:
			fr.attrs.AuthType = d.string("auth_type")
		case attrQueryString:
			fr.query, fr.hasQuery = d.str("query_string")
		case attrRoute:
			fr.attrs.Route = d.string("jvm_route")
		case attrSSLCert:
			fr.attrs.SSLCert = d.string("ssl_cert")
		case attrSSLCipher:
			fr.attrs.SSLCipher = d.string("ssl_cipher")
		case attrSSLSession:
			fr.attrs.SSLSession = d.string("ssl_session")
		case attrSSLKeySize:
			fr.attrs.SSLKeySize = int(d.uint16("ssl_key_size"))
		case attrSecret:
			fr.secret = d.string("secret")
			fr.hasSecret = true
		case attrStoredMeth:
			storedMethod = d.string("stored_method")
		case attrReqAttr:
			name := d.string("req_attribute name")
			value := d.string("req_attribute value")
			if d.err != nil {
				return d.err
			}
			// An exact list of names, not a pattern: arbitrary names are
			// how Ghostcat (CVE-2020-1938) smuggled javax.servlet.include.*
			// attributes into Tomcat.
			switch name {
			case "AJP_REMOTE_PORT":
				fr.remotePort = value
			case "AJP_LOCAL_ADDR":
				fr.attrs.LocalAddr = value
			case "AJP_SSL_PROTOCOL":
				fr.attrs.SSLProtocol = value
			case "JK_LB_ACTIVATION":
				fr.attrs.LBActivation = value
			default:
				if refused == nil {
					refused = refuse(403, "ajp: request attribute %q is not allowed", name)
				}
			}
		case attrContextPath, attrServletPath:
			name := d.string("attribute")
			if d.err == nil && refused == nil {
				refused = refuse(403, "ajp: attribute %d (%q) is not allowed", code, name)
			}
		default:
			return fmt.Errorf("ajp: request attribute code %#02x, want 0x01 to 0x0D or 0xFF", code)
		}
	}
	if d.err != nil {
		return d.err
	}
	if d.off != len(p) {
		return fmt.Errorf("ajp: %d bytes after the attribute terminator, want none", len(p)-d.off)
	}
	switch {
	case methodCode == methodStored:
		if storedMethod == "" || !respond.IsToken(storedMethod) {
			return refuse(400, "ajp: stored_method %q is not an HTTP method", storedMethod)
		}
		fr.method = storedMethod
	case int(methodCode) < len(methods) && methods[methodCode] != "":
		fr.method = methods[methodCode]
	default:
		return refuse(501, "ajp: method code %d is not defined", methodCode)
	}
	if refused != nil {
		return refused
	}
	if fr.chunked && fr.contentLength >= 0 {
		return refuse(400, "ajp: request has both Content-Length and Transfer-Encoding")
	}
	return nil
}

// framingHeader records the headers that decide how the body is framed and
// refuses the ambiguous ones: two Content-Lengths, even equal, are how
// request smuggling starts, so there is no "pick one".
func (fr *forwardRequest) framingHeader(name, value string) error {
	switch name {
	case "Content-Length":
		if fr.contentLength >= 0 {
			return refuse(400, "ajp: duplicate Content-Length %q", value)
		}
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil || n < 0 || value[0] == '+' {
			return refuse(400, "ajp: Content-Length %q is not a non-negative integer", value)
		}
		fr.contentLength = n
	case "Transfer-Encoding":
		if fr.chunked {
			return refuse(400, "ajp: duplicate Transfer-Encoding %q", value)
		}
		if !strings.EqualFold(strings.TrimSpace(value), "chunked") {
			return refuse(501, "ajp: Transfer-Encoding %q, want chunked", value)
		}
		fr.chunked = true
	}
	return nil
}

// canonicalName is http.CanonicalHeaderKey without its allocation for the
// names that are already canonical, which is most of what Apache sends.
func canonicalName(b string) string {
	upper := true
	for i := 0; i < len(b); i++ {
		c := b[i]
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			return canonicalSlow(b)
		}
		upper = c == '-'
	}
	return b
}

func canonicalSlow(b string) string {
	out := make([]byte, len(b))
	upper := true
	for i := 0; i < len(b); i++ {
		c := b[i]
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
		upper = c == '-'
	}
	return string(out)
}

// validHeaderValue refuses CR, LF, NUL and other controls except tab: a
// handler that copies a header into its response must not be able to split
// that response.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7F {
			return false
		}
	}
	return true
}

// names are the FORWARD_REQUEST fields request.Build's errors name.
var names = request.Names{Prefix: "ajp", Method: "method", Proto: "protocol", URI: "req_uri"}

// httpRequest builds the request a handler sees. scriptName is the mount
// prefix (ForceScriptName, "" when unset); the path is req_uri with that
// prefix cut off when req_uri starts with it, because mod_proxy_ajp sends
// the backend path, which is the public path when the application is
// proxied to the same path and the path inside it when proxied to "/".
// A request the builder refuses is a 400.
func (fr *forwardRequest) httpRequest(ctx context.Context, body io.ReadCloser, scriptName string) (*http.Request, error) {
	f := request.Fields{
		Method:        fr.method,
		Proto:         fr.protocol,
		URI:           fr.uri,
		Query:         fr.query,
		HasQuery:      fr.hasQuery,
		ScriptName:    scriptName,
		ServerName:    fr.serverName,
		RemoteAddr:    fr.remoteAddr,
		RemotePort:    fr.remotePort,
		ContentLength: max(fr.contentLength, 0),
		Chunked:       fr.chunked,
	}
	if fr.uri[0] != '/' {
		// Said here, since the builder reads a URI without a query.
		return nil, refuse(400, "ajp: req_uri %q, want an absolute path", fr.uri)
	}
	if fr.hasQuery {
		f.URI += "?" + fr.query
	}
	if fr.serverPort != 0 {
		f.ServerPort = strconv.Itoa(int(fr.serverPort))
	}
	if fr.isSSL {
		var err error
		if f.TLS, err = fr.attrs.tlsState(); err != nil {
			return nil, err
		}
	}
	if !fr.attrs.empty() {
		ctx = &attrContext{Context: ctx, attrs: fr.attrs}
	}
	r, err := request.Build(ctx, &f, fr.header, body, &names)
	if err != nil {
		return nil, refuse(400, "%v", err)
	}
	return r, nil
}
