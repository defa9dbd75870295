// Package gateway is the CGI side of the FastCGI and SCGI servers (and of
// runfcgi's plain-CGI mode): it turns the variables the web server sends
// into an *http.Request, through runtime/internal/request as AJP13 does,
// and writes a handler's response in the CGI response format ("Status: 404
// Not Found", headers, a blank line, the body). Handlers never see it: what
// they need (the script name) is in runtime/gateway.
//
// The variables, as NewRequestContext reads them:
//
//   - PATH_INFO is the path inside the application (empty means "/");
//     without it, the path of REQUEST_URI with the script name cut off.
//   - REQUEST_URI is r.RequestURI; rebuilt when missing, or when the server
//     sent it decoded (Cherokee) next to PATH_INFO.
//   - The script name is computed as Django 1.8's get_script_name does:
//     Config.ForceScriptName when set; else SCRIPT_URL (or REDIRECT_URL),
//     with runs of slashes collapsed and as many bytes as PATH_INFO has cut
//     from its end; else SCRIPT_NAME. It never ends in a slash.
//   - REMOTE_ADDR:REMOTE_PORT is r.RemoteAddr; HTTPS=on (or ON, or 1) sets
//     r.TLS to a non-nil tls.ConnectionState and the URL scheme to https.
//     Its PeerCertificates come from SSL_CLIENT_CERT (PEM, as Apache's
//     mod_ssl exports it with SSLOptions +ExportCertData; or URL-encoded
//     PEM, as nginx's $ssl_client_escaped_cert is), its Version from
//     SSL_PROTOCOL; an SSL_CLIENT_CERT that is not PEM certificates is an
//     error, never a request without a certificate.
//   - HTTP_HOST is r.Host, else SERVER_NAME:SERVER_PORT.
//   - HTTP_* variables become headers, CONTENT_TYPE and CONTENT_LENGTH too;
//     HTTP_PROXY is dropped (httpoxy), and so are HTTP_CONTENT_TYPE and
//     HTTP_CONTENT_LENGTH, which would contradict the body's variables.
//
// NewRequestContext is on every request's path, so it allocates little:
// the header list is on the stack and common header names come from a
// table instead of being canonicalized each time.
package gateway
