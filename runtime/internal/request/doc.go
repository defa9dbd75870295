// Package request builds the *http.Request a handler sees from what a
// protocol server decoded, so that FastCGI and SCGI (through
// runtime/internal/gateway, from CGI variables) and AJP13 (from its
// FORWARD_REQUEST packet) map a request the same way:
//
//   - r.URL.Path is the path inside the application: PATH_INFO when the web
//     server said it, else the request URI's path, decoded, with the script
//     name cut from its front; "/" when empty. A PATH_INFO that is the whole
//     path (the request URI's, decoded, starting with the script name, as
//     h2o sends it) has the script name cut from its front too.
//   - r.RequestURI is the URI the web server sent; when it sent none, or
//     next to a PATH_INFO sent one that is decoded (Cherokee) or not an
//     absolute path, it is rebuilt from the script name, the path and the
//     query.
//   - r.Host is the Host header, else ServerName:ServerPort; r.URL carries a
//     scheme and host only when a host is known, so it never reads
//     "http:///path".
//   - r.Header has no Host (it is r.Host), no Transfer-Encoding (it is
//     r.TransferEncoding) and no Proxy (httpoxy).
//   - The script name travels in the request's context (ScriptName), with
//     trailing slashes removed.
//
// Build is on every request's path: the request is built on the stack and
// copied once by WithContext, and header values share one backing array.
package request
