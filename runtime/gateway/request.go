package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/appgen/appgen/runtime/internal/clientcert"
	"github.com/appgen/appgen/runtime/internal/respond"
)

// Param is one CGI variable, as the web server sent it.
type Param struct{ Name, Value string }

// Config holds the settings that change how requests are mapped.
// A nil *Config is the same as a zero Config.
type Config struct {
	// ForceScriptName, when non-nil, is the script name of every request,
	// whatever the web server sent (Django's FORCE_SCRIPT_NAME).
	// Default nil: the script name comes from the request's variables.
	ForceScriptName *string
}

type scriptNameKey struct{}

// ScriptName returns the public mount prefix of r's application, without a
// trailing slash; "" when the application is mounted at the root or r was not
// made by this package.
func ScriptName(r *http.Request) string {
	s, _ := r.Context().Value(scriptNameKey{}).(string)
	return s
}

// WithScriptName returns a shallow copy of r whose ScriptName is name, with
// trailing slashes removed. Middleware that mounts an application under a
// prefix uses it.
func WithScriptName(r *http.Request, name string) *http.Request {
	name = strings.TrimRight(name, "/")
	return r.WithContext(context.WithValue(r.Context(), scriptNameKey{}, name))
}

// NewRequest builds the request that params describe, as NewRequestContext
// does with context.Background().
func NewRequest(params []Param, body io.ReadCloser, cfg *Config) (*http.Request, error) {
	return NewRequestContext(context.Background(), params, body, cfg)
}

// vars holds the variables NewRequestContext looks at by name; present
// records whether PATH_INFO was sent at all, since an empty PATH_INFO means
// "/" while a missing one means "derive it from REQUEST_URI".
type vars struct {
	method, proto, requestURI, query, pathInfo, scriptName string
	scriptURL, redirectURL, contentLength, contentType     string
	remoteAddr, remotePort, serverName, serverPort, https  string
	host, clientCert, sslProtocol                          string
	hasPathInfo, hasQuery                                  bool
}

// NewRequestContext builds the request that params describe, with ctx as
// its context (so the protocol server can cancel it). body becomes r.Body
// (http.NoBody when nil); its length is CONTENT_LENGTH, which the caller is
// expected to enforce. Errors name the variable that was wrong.
func NewRequestContext(ctx context.Context, params []Param, body io.ReadCloser, cfg *Config) (*http.Request, error) {
	var v vars
	// The headers, named as net/http names them, in the order sent; on the
	// stack for any ordinary request.
	var hbuf [32]Param
	headers := hbuf[:0]
	for i := range params {
		p := &params[i]
		switch p.Name {
		case "REQUEST_METHOD":
			v.method = p.Value
		case "SERVER_PROTOCOL":
			v.proto = p.Value
		case "REQUEST_URI":
			v.requestURI = p.Value
		case "QUERY_STRING":
			v.query, v.hasQuery = p.Value, true
		case "PATH_INFO":
			v.pathInfo, v.hasPathInfo = p.Value, true
		case "SCRIPT_NAME":
			v.scriptName = p.Value
		case "SCRIPT_URL":
			v.scriptURL = p.Value
		case "REDIRECT_URL":
			v.redirectURL = p.Value
		case "CONTENT_LENGTH":
			v.contentLength = p.Value
		case "CONTENT_TYPE":
			v.contentType = p.Value
		case "REMOTE_ADDR":
			v.remoteAddr = p.Value
		case "REMOTE_PORT":
			v.remotePort = p.Value
		case "SERVER_NAME":
			v.serverName = p.Value
		case "SERVER_PORT":
			v.serverPort = p.Value
		case "HTTPS":
			v.https = p.Value
		case "HTTP_HOST":
			v.host = p.Value
		case "SSL_CLIENT_CERT":
			v.clientCert = p.Value
		case "SSL_PROTOCOL":
			v.sslProtocol = p.Value
		default:
			if len(p.Name) <= len("HTTP_") || !strings.HasPrefix(p.Name, "HTTP_") {
				continue
			}
			// Matched on the header name, not the variable's, so that a
			// variable in another case (HTTP_PrOXY) cannot smuggle one in.
			switch name := headerName(p.Name); name {
			case "Proxy", "Host", "Content-Type", "Content-Length":
				// Proxy is httpoxy. Host is r.Host, not a header, as in
				// net/http's server; the body's type and length are
				// CONTENT_TYPE and CONTENT_LENGTH, whatever a server also
				// sends as HTTP_ variables.
			default:
				headers = append(headers, Param{name, p.Value})
			}
		}
	}

	if v.method == "" {
		return nil, errors.New("gateway: bad REQUEST_METHOD \"\": want a method such as GET")
	}
	if !respond.IsToken(v.method) {
		return nil, fmt.Errorf("gateway: bad REQUEST_METHOD %q: want an HTTP token", v.method)
	}
	major, minor := 1, 1
	if v.proto == "" {
		v.proto = "HTTP/1.1"
	} else if v.proto != "HTTP/1.1" && v.proto != "HTTP/1.0" {
		var ok bool
		if major, minor, ok = http.ParseHTTPVersion(v.proto); !ok {
			// "HTTP/2" and "HTTP/3", as some servers write them.
			if len(v.proto) != len("HTTP/2") || !strings.HasPrefix(v.proto, "HTTP/") || v.proto[5] < '2' || v.proto[5] > '9' {
				return nil, fmt.Errorf("gateway: bad SERVER_PROTOCOL %q: want HTTP/major.minor", v.proto)
			}
			major, minor = int(v.proto[5]-'0'), 0
		}
	} else if v.proto == "HTTP/1.0" {
		minor = 0
	}

	var contentLength int64
	if v.contentLength != "" {
		n, err := strconv.ParseInt(v.contentLength, 10, 64)
		if err != nil || n < 0 || v.contentLength[0] == '+' {
			return nil, fmt.Errorf("gateway: bad CONTENT_LENGTH %q: want a non-negative integer", v.contentLength)
		}
		contentLength = n
	}

	// The client's path, decoded, only when PATH_INFO does not give it.
	var uriPath, uriQuery string
	if v.requestURI != "" {
		raw, q, _ := strings.Cut(v.requestURI, "?")
		uriQuery = q
		if raw == "" || raw[0] != '/' {
			return nil, fmt.Errorf("gateway: bad REQUEST_URI %q: want an absolute path", v.requestURI)
		}
		if strings.IndexByte(raw, '%') >= 0 {
			p, err := url.PathUnescape(raw)
			if err != nil {
				return nil, fmt.Errorf("gateway: bad REQUEST_URI %q: %v", v.requestURI, err)
			}
			raw = p
		}
		uriPath = raw
	}

	script := scriptName(&v, cfg)
	path := v.pathInfo
	if !v.hasPathInfo {
		path = uriPath
		if script != "" && strings.HasPrefix(path, script) && (len(path) == len(script) || path[len(script)] == '/') {
			path = path[len(script):]
		}
	}
	if path == "" {
		path = "/"
	}
	if !v.hasQuery {
		v.query = uriQuery
	}
	if v.requestURI == "" {
		// No REQUEST_URI (plain CGI servers): rebuild it as the client sent it.
		u := url.URL{Path: script + path, RawQuery: v.query}
		v.requestURI = u.RequestURI()
	}

	if body == nil {
		body = http.NoBody
	}
	if script != "" {
		ctx = context.WithValue(ctx, scriptNameKey{}, script)
	}
	u := &url.URL{Path: path, RawQuery: v.query}
	host := v.host
	if host == "" && v.serverName != "" {
		host = v.serverName
		if v.serverPort != "" {
			host = net.JoinHostPort(v.serverName, v.serverPort)
		}
	}
	if host != "" {
		// An absolute URL, as handlers behind a gateway often want it;
		// without a host it would read "http:///path".
		u.Scheme, u.Host = "http", host
	}
	var tlsState *tls.ConnectionState
	if v.https == "on" || v.https == "ON" || v.https == "1" {
		var err error
		if tlsState, err = clientTLS(v.clientCert, v.sslProtocol); err != nil {
			return nil, err
		}
		u.Scheme = "https"
	}
	var remoteAddr string
	if v.remoteAddr != "" {
		port := v.remotePort
		if port == "" {
			port = "0"
		}
		remoteAddr = net.JoinHostPort(v.remoteAddr, port)
	}
	if v.contentType != "" {
		headers = append(headers, Param{"Content-Type", v.contentType})
	}
	if v.contentLength != "" {
		headers = append(headers, Param{"Content-Length", v.contentLength})
	}
	header := make(http.Header, len(headers))
	if len(headers) > 0 {
		// One backing array for every header's []string: a request has
		// a dozen headers, and one allocation beats a dozen.
		values := make([]string, len(headers))
		for i, h := range headers {
			values[i] = h.Value
			header[h.Name] = values[i : i+1 : i+1]
		}
		if len(header) < len(headers) {
			// A name came twice (HTTP_X_A and HTTP_X_a). Servers join
			// repeated headers, but a repeated CGI variable is still kept
			// rather than lost: the map is made again, appending. Checked
			// once here rather than with a lookup per header.
			clear(header)
			for i, h := range headers {
				if old, ok := header[h.Name]; ok {
					header[h.Name] = append(old[:len(old):len(old)], h.Value)
					continue
				}
				header[h.Name] = values[i : i+1 : i+1]
			}
		}
	}

	// Made here and copied by WithContext, which is the only way besides
	// NewRequestWithContext to give a request its context: this one stays
	// on the stack, and NewRequestWithContext's URL parsing and header map,
	// all replaced at once, cost more than the copy.
	r := http.Request{
		Method:        v.method,
		URL:           u,
		Proto:         v.proto,
		ProtoMajor:    major,
		ProtoMinor:    minor,
		Header:        header,
		Body:          body,
		ContentLength: contentLength,
		Host:          host,
		RemoteAddr:    remoteAddr,
		RequestURI:    v.requestURI,
		TLS:           tlsState,
	}
	return r.WithContext(ctx), nil
}

// clientTLS is the TLS state of a request that came over HTTPS: the client's
// certificate from SSL_CLIENT_CERT (PEM, as Apache's mod_ssl exports it with
// SSLOptions +ExportCertData, or URL-encoded PEM, as nginx's
// $ssl_client_escaped_cert gives it) and the version from SSL_PROTOCOL.
func clientTLS(cert, protocol string) (*tls.ConnectionState, error) {
	if cert != "" && strings.IndexByte(cert, '\n') < 0 && strings.IndexByte(cert, '%') >= 0 {
		// PEM has lines; one without any is nginx's escaped form.
		u, err := url.PathUnescape(cert)
		if err != nil {
			return nil, fmt.Errorf("gateway: SSL_CLIENT_CERT is neither PEM nor URL-encoded PEM: %v", err)
		}
		cert = u
	}
	cs, err := clientcert.State(cert, protocol)
	if err != nil {
		return nil, fmt.Errorf("gateway: SSL_CLIENT_CERT %v", err)
	}
	return cs, nil
}

// scriptName is Django 1.8's get_script_name, with the trailing slash that
// Django strips when joining it to path_info stripped here once.
func scriptName(v *vars, cfg *Config) string {
	if cfg != nil && cfg.ForceScriptName != nil {
		return strings.TrimRight(*cfg.ForceScriptName, "/")
	}
	su := v.scriptURL
	if su == "" {
		su = v.redirectURL
	}
	var s string
	if su != "" {
		if strings.Contains(su, "//") {
			su = collapseSlashes(su)
		}
		s = su
		if n := len(v.pathInfo); n > 0 {
			// Django cuts len(path_info) bytes without checking that they
			// match (script_url[:-len(path_info)]), and so do we.
			if n >= len(s) {
				s = ""
			} else {
				s = s[:len(s)-n]
			}
		}
	} else {
		s = v.scriptName
	}
	return strings.TrimRight(s, "/")
}

func collapseSlashes(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '/' && len(b) > 0 && b[len(b)-1] == '/' {
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

// headerName turns HTTP_X_FORWARDED_FOR into X-Forwarded-For, from a table
// for the names browsers and web servers send most.
func headerName(cgi string) string {
	if h, ok := commonHeaders[cgi]; ok {
		return h
	}
	b := make([]byte, len(cgi)-len("HTTP_"))
	upper := true
	for i := range b {
		c := cgi[i+len("HTTP_")]
		switch {
		case c == '_':
			c = '-'
			upper = true
		case upper:
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			upper = false
		default:
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
		}
		b[i] = c
	}
	return string(b)
}

var commonHeaders = func() map[string]string {
	m := make(map[string]string)
	for _, h := range []string{
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language",
		"Authorization", "Cache-Control", "Connection", "Cookie", "Dnt",
		"Forwarded", "Host", "If-Match", "If-Modified-Since", "If-None-Match",
		"If-Range", "If-Unmodified-Since", "Origin", "Pragma", "Range", "Referer",
		"Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Sec-Fetch-Dest",
		"Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-User", "Te",
		"Upgrade-Insecure-Requests", "User-Agent", "Via", "X-Forwarded-For",
		"X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "X-Requested-With",
		"Content-Type", "Content-Length", "Expect", "Priority",
	} {
		m["HTTP_"+strings.ToUpper(strings.ReplaceAll(h, "-", "_"))] = h
	}
	return m
}()
