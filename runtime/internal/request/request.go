package request

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/appgen/appgen/runtime/internal/respond"
)

// Param is a name and a value: a CGI variable as the web server sent it,
// or a request header with its canonical name.
type Param struct{ Name, Value string }

// Fields is what a protocol decoded about one request, in the terms every
// protocol shares. Build turns it into the *http.Request a handler sees.
type Fields struct {
	// Method is the request method; Build refuses one that is not a token.
	Method string
	// Proto is the protocol version as sent ("HTTP/1.1", "HTTP/2.0",
	// "HTTP/2"); "" means HTTP/1.1.
	Proto string
	// URI is the request URI as the web server sent it, query included;
	// "" when it sent none, and Build rebuilds it from the script name,
	// the path and the query.
	URI string
	// PathInfo is the path inside the application, decoded, when the web
	// server said it (CGI's PATH_INFO; "" means "/"). When HasPathInfo is
	// false the path is URI's, decoded, with ScriptName cut from its front.
	PathInfo    string
	HasPathInfo bool
	// Query is the query string, still encoded, when the web server sent
	// it apart from URI; otherwise (HasQuery false) it is URI's.
	Query    string
	HasQuery bool
	// ScriptName is the mount prefix; Build drops trailing slashes.
	ScriptName string
	// Host is the Host header when the protocol carries it apart from the
	// others (CGI's HTTP_HOST); "" means the first Host in the header list.
	Host string
	// ServerName and ServerPort make r.Host when no Host header came.
	ServerName, ServerPort string
	// RemoteAddr and RemotePort make r.RemoteAddr ("" port: "0").
	RemoteAddr, RemotePort string
	// TLS, when non-nil, says the client came over HTTPS.
	TLS *tls.ConnectionState
	// ContentLength is r.ContentLength: -1 when the length is unknown.
	ContentLength int64
	// Chunked sets r.TransferEncoding to ["chunked"] (with ContentLength
	// -1): the client sent the body in chunks and the protocol decodes them.
	Chunked bool
}

// Names says how a protocol calls the fields Build can refuse, so that
// its errors name the input as the peer sent it ("REQUEST_URI", "req_uri").
type Names struct {
	Prefix, Method, Proto, URI string
}

// Build returns the request f describes, with header its headers, ctx its
// context and body its Body (http.NoBody when nil). header holds the
// request headers in arrival order, with canonical names: Build drops Proxy
// (httpoxy) and Transfer-Encoding, and takes the first Host as r.Host, as
// net/http's server does. (header is not a field of f so that a caller's
// list can stay on its stack.) Errors name the wrong field with names.
func Build(ctx context.Context, f *Fields, header []Param, body io.ReadCloser, names *Names) (*http.Request, error) {
	if f.Method == "" || !respond.IsToken(f.Method) {
		return nil, fmt.Errorf("%s: bad %s %q: want a method such as GET", names.Prefix, names.Method, f.Method)
	}
	proto := f.Proto
	major, minor := 1, 1
	switch proto {
	case "", "HTTP/1.1":
		proto = "HTTP/1.1"
	case "HTTP/1.0":
		minor = 0
	default:
		var ok bool
		if major, minor, ok = http.ParseHTTPVersion(proto); !ok {
			// "HTTP/2" and "HTTP/3", as some servers write them.
			if len(proto) != len("HTTP/2") || !strings.HasPrefix(proto, "HTTP/") || proto[5] < '2' || proto[5] > '9' {
				return nil, fmt.Errorf("%s: bad %s %q: want HTTP/major.minor", names.Prefix, names.Proto, proto)
			}
			major, minor = int(proto[5]-'0'), 0
		}
	}

	script := strings.TrimRight(f.ScriptName, "/")
	requestURI := f.URI
	rawPath, uriQuery, _ := strings.Cut(requestURI, "?")
	path := f.PathInfo
	if f.HasPathInfo {
		if script != "" && wholePath(rawPath, script, path) {
			// h2o 2.2 sends the whole path, decoded, as PATH_INFO (and an
			// empty SCRIPT_NAME, which the configuration follows with the
			// mount point): the mount point is cut from it, as from a URI.
			path = path[len(script):]
		}
		if requestURI != "" && (rawPath == "" || rawPath[0] != '/' || hasControl(uriQuery) || decoded(rawPath, script, path)) {
			// Cherokee sends REQUEST_URI decoded: as it is, it is not the
			// URI the client sent and may not even parse. PATH_INFO and
			// the script name say the path, so the URI is rebuilt below,
			// as it is when it is not an absolute path.
			requestURI = ""
		}
	} else if requestURI != "" {
		if rawPath == "" || rawPath[0] != '/' {
			return nil, fmt.Errorf("%s: bad %s %q: want an absolute path", names.Prefix, names.URI, f.URI)
		}
		path = rawPath
		if strings.IndexByte(path, '%') >= 0 {
			p, err := url.PathUnescape(path)
			if err != nil {
				return nil, fmt.Errorf("%s: bad %s %q: %v", names.Prefix, names.URI, f.URI, err)
			}
			path = p
		}
		if script != "" && strings.HasPrefix(path, script) && (len(path) == len(script) || path[len(script)] == '/') {
			path = path[len(script):]
		}
	}
	if path == "" || path[0] != '/' {
		// CGI's PATH_INFO starts with "/" when it is not empty; handlers
		// and routers rely on it.
		path = "/" + path
	}
	query := f.Query
	if !f.HasQuery {
		query = uriQuery
	}
	if requestURI == "" {
		// No usable URI (plain CGI servers, Cherokee): rebuild it as the
		// client sent it.
		p := script + path
		if p[0] != '/' {
			p = "/" + p
		}
		u := url.URL{Path: p, RawQuery: query}
		if hasControl(query) {
			u.RawQuery = escapeControls(query)
		}
		requestURI = u.RequestURI()
	}

	if body == nil {
		body = http.NoBody
	}
	if script != "" {
		ctx = context.WithValue(ctx, scriptNameKey{}, script)
	}

	host := f.Host
	for i := 0; host == "" && i < len(header); i++ {
		if header[i].Name == "Host" {
			host = header[i].Value
		}
	}
	if host == "" && f.ServerName != "" {
		host = f.ServerName
		if f.ServerPort != "" {
			host = net.JoinHostPort(f.ServerName, f.ServerPort)
		}
	}
	u := &url.URL{Path: path, RawQuery: query}
	if host != "" {
		// An absolute URL, as handlers behind a gateway often want it;
		// without a host it would read "http:///path".
		u.Scheme, u.Host = "http", host
	}
	if f.TLS != nil {
		u.Scheme = "https"
	}
	var remoteAddr string
	if f.RemoteAddr != "" {
		port := f.RemotePort
		if port == "" {
			port = "0"
		}
		remoteAddr = net.JoinHostPort(f.RemoteAddr, port)
	}
	contentLength := f.ContentLength
	var te []string
	if f.Chunked {
		contentLength, te = -1, chunked
	}

	// Made here and copied by WithContext, which is the only way besides
	// NewRequestWithContext to give a request its context: this one stays
	// on the stack, and NewRequestWithContext's URL parsing and header map,
	// all replaced at once, cost more than the copy.
	r := http.Request{
		Method:           f.Method,
		URL:              u,
		Proto:            proto,
		ProtoMajor:       major,
		ProtoMinor:       minor,
		Header:           headerMap(header),
		Body:             body,
		ContentLength:    contentLength,
		TransferEncoding: te,
		Host:             host,
		RemoteAddr:       remoteAddr,
		RequestURI:       requestURI,
		TLS:              f.TLS,
	}
	return r.WithContext(ctx), nil
}

// chunked is r.TransferEncoding of a chunked request; handlers must not
// change it.
var chunked = []string{"chunked"}

// headerMap makes the header map from the list, without the headers net/http's
// server does not leave in r.Header either (Host, Transfer-Encoding), nor
// Proxy: httpoxy, a Proxy header would look like the HTTP_PROXY
// environment variable to code that reads proxies from CGI variables.
func headerMap(list []Param) http.Header {
	h := make(http.Header, len(list))
	if len(list) == 0 {
		return h
	}
	// One backing array for every header's []string: a request has a dozen
	// headers, and one allocation beats a dozen.
	values := make([]string, len(list))
	n := 0
	for i := range list {
		p := &list[i]
		switch p.Name {
		case "Proxy", "Host", "Transfer-Encoding":
			continue
		}
		values[n] = p.Value
		h[p.Name] = values[n : n+1 : n+1]
		n++
	}
	if len(h) < n {
		// A name came twice. Servers join repeated headers, but a repeated
		// one is still kept rather than lost: the map is made again,
		// appending. Checked once here rather than with a lookup per header.
		clear(h)
		n = 0
		for i := range list {
			p := &list[i]
			switch p.Name {
			case "Proxy", "Host", "Transfer-Encoding":
				continue
			}
			if old, ok := h[p.Name]; ok {
				h[p.Name] = append(old[:len(old):len(old)], p.Value)
			} else {
				h[p.Name] = values[n : n+1 : n+1]
			}
			n++
		}
	}
	return h
}

// decoded reports whether rawPath, the path of a REQUEST_URI sent with a
// PATH_INFO, was decoded by the web server (Cherokee does it): it holds a
// byte that never appears unescaped in a request line (a space, a control)
// or a '%' that starts no escape, or it is the script name and PATH_INFO
// as they are while holding a '%' (so "/a%41" that stands for itself is
// not decoded again into "/aA").
func decoded(rawPath, script, pathInfo string) bool {
	pct := false
	for i := 0; i < len(rawPath); i++ {
		if c := rawPath[i]; c <= ' ' || c == 0x7F {
			return true
		} else if c == '%' {
			if i+2 >= len(rawPath) || !ishex(rawPath[i+1]) || !ishex(rawPath[i+2]) {
				return true
			}
			pct = true
		}
	}
	return pct && len(rawPath) == len(script)+len(pathInfo) &&
		strings.HasPrefix(rawPath, script) && rawPath[len(script):] == pathInfo
}

// wholePath reports whether pathInfo, sent with the script name script, is
// not the path inside the application but the whole path: it is the script
// name or starts with it and a slash, and it is rawPath (the request URI's
// path) decoded, as it is or with its dot segments resolved and slashes
// collapsed, as h2o normalizes it. A server that splits the path sends a
// PATH_INFO that is rawPath decoded with the script name cut from it, which
// is never rawPath decoded as a whole while the script name is not empty.
func wholePath(rawPath, script, pathInfo string) bool {
	if !strings.HasPrefix(pathInfo, script) || len(pathInfo) > len(script) && pathInfo[len(script)] != '/' {
		return false
	}
	p, err := url.PathUnescape(rawPath)
	if err != nil || p == "" {
		return false
	}
	if p == pathInfo {
		return true
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == pathInfo
}

// hasControl reports whether s holds a space or a control character, which
// no request line carries unescaped.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7F {
			return true
		}
	}
	return false
}

// escapeControls percent-encodes the spaces and controls of a query that
// a web server passed decoded, and nothing else: the rest is as it was sent.
func escapeControls(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7F {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

type scriptNameKey struct{}

// ScriptName returns the mount prefix Build or WithScriptName gave r; "" at
// the root or when r came from neither.
func ScriptName(r *http.Request) string {
	s, _ := r.Context().Value(scriptNameKey{}).(string)
	return s
}

// WithScriptName returns a shallow copy of r whose ScriptName is name with
// trailing slashes removed.
func WithScriptName(r *http.Request, name string) *http.Request {
	name = strings.TrimRight(name, "/")
	return r.WithContext(context.WithValue(r.Context(), scriptNameKey{}, name))
}
