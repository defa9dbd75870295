// Package gateway turns the CGI-style variables that FastCGI and SCGI deliver
// into an *http.Request, and writes a handler's response back in the CGI
// response format ("Status: 404 Not Found", headers, a blank line, the body).
//
// It is shared by the protocol servers in runtime/fastcgi and runtime/scgi so
// that every protocol maps a request the same way:
//
//   - r.URL.Path is the path inside the application (Django's path_info):
//     PATH_INFO when the web server sets it (empty means "/"), otherwise the
//     path of REQUEST_URI with the script name cut from its front.
//   - r.RequestURI is REQUEST_URI, the client's original request URI.
//   - ScriptName(r) is the public mount prefix, computed as Django 1.8's
//     get_script_name does: Config.ForceScriptName when set; else SCRIPT_URL
//     (or REDIRECT_URL), with runs of slashes collapsed and as many bytes as
//     PATH_INFO has cut from its end; else SCRIPT_NAME. It never ends in a
//     slash, so handlers build links as ScriptName(r) + "/path".
//   - r.RemoteAddr is REMOTE_ADDR:REMOTE_PORT; HTTPS=on (or ON, or 1) sets
//     r.TLS to a non-nil tls.ConnectionState and the URL scheme to https. Its
//     PeerCertificates come from SSL_CLIENT_CERT (PEM, as Apache's mod_ssl
//     exports it with SSLOptions +ExportCertData; or URL-encoded PEM, as
//     nginx's $ssl_client_escaped_cert is), its Version from SSL_PROTOCOL,
//     and HandshakeComplete is set; an SSL_CLIENT_CERT that is not PEM
//     certificates is an error, never a request without a certificate.
//     r.Host is HTTP_HOST, else SERVER_NAME:SERVER_PORT; when there is a host,
//     r.URL is absolute (scheme and host set), as handlers behind a gateway
//     often want it.
//   - HTTP_* variables become headers, CONTENT_TYPE and CONTENT_LENGTH too;
//     HTTP_PROXY is dropped (httpoxy: it would otherwise look like the
//     HTTP_PROXY environment variable to code that reads proxies from it).
//
// NewRequest is on every request's path, so it allocates little: header
// values share one backing array, and common header names come from a table
// instead of being canonicalized each time.
package gateway
