package gateway

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/appgen/appgen/runtime/internal/clientcert"
	"github.com/appgen/appgen/runtime/internal/request"
)

// Param is one CGI variable, as the web server sent it.
type Param = request.Param

// Config holds the settings that change how requests are mapped.
// A nil *Config is the same as a zero Config.
type Config struct {
	// ForceScriptName, when non-nil, is the script name of every request,
	// whatever the web server sent (Django's FORCE_SCRIPT_NAME).
	// Default nil: the script name comes from the request's variables.
	ForceScriptName *string
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
	pathInfo, scriptName, scriptURL, redirectURL string
	contentLength, contentType, https            string
	clientCert, sslProtocol                      string
	hasPathInfo                                  bool
}

// names are the CGI variables request.Build's errors name.
var names = request.Names{Prefix: "gateway", Method: "REQUEST_METHOD", Proto: "SERVER_PROTOCOL", URI: "REQUEST_URI"}

// NewRequestContext builds the request that params describe, with ctx as
// its context (so the protocol server can cancel it). body becomes r.Body
// (http.NoBody when nil); its length is CONTENT_LENGTH, which the caller is
// expected to enforce (0 when the variable is missing or empty: a server
// that streams a body of unknown length sets r.ContentLength to -1).
// Errors name the variable that was wrong.
func NewRequestContext(ctx context.Context, params []Param, body io.ReadCloser, cfg *Config) (*http.Request, error) {
	var v vars
	var f request.Fields
	// The headers, named as net/http names them, in the order sent; on the
	// stack for any ordinary request.
	var hbuf [32]Param
	headers := hbuf[:0]
	for i := range params {
		p := &params[i]
		switch p.Name {
		case "REQUEST_METHOD":
			f.Method = p.Value
		case "SERVER_PROTOCOL":
			f.Proto = p.Value
		case "REQUEST_URI":
			f.URI = p.Value
		case "QUERY_STRING":
			f.Query, f.HasQuery = p.Value, true
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
			f.RemoteAddr = p.Value
		case "REMOTE_PORT":
			f.RemotePort = p.Value
		case "SERVER_NAME":
			f.ServerName = p.Value
		case "SERVER_PORT":
			f.ServerPort = p.Value
		case "HTTPS":
			v.https = p.Value
		case "HTTP_HOST":
			f.Host = p.Value
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
				// Proxy is httpoxy. Host is HTTP_HOST's alone. The body's
				// type and length are CONTENT_TYPE and CONTENT_LENGTH,
				// whatever a server also sends as HTTP_ variables.
			default:
				headers = append(headers, Param{Name: name, Value: p.Value})
			}
		}
	}

	if v.contentLength != "" {
		n, err := strconv.ParseInt(v.contentLength, 10, 64)
		if err != nil || n < 0 || v.contentLength[0] == '+' {
			return nil, fmt.Errorf("gateway: bad CONTENT_LENGTH %q: want a non-negative integer", v.contentLength)
		}
		f.ContentLength = n
	}
	if v.https == "on" || v.https == "ON" || v.https == "1" {
		var err error
		if f.TLS, err = clientTLS(v.clientCert, v.sslProtocol); err != nil {
			return nil, err
		}
	}
	if v.contentType != "" {
		headers = append(headers, Param{Name: "Content-Type", Value: v.contentType})
	}
	if v.contentLength != "" {
		headers = append(headers, Param{Name: "Content-Length", Value: v.contentLength})
	}
	f.PathInfo, f.HasPathInfo = v.pathInfo, v.hasPathInfo
	f.ScriptName = scriptName(&v, cfg)
	return request.Build(ctx, &f, headers, body, &names)
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
