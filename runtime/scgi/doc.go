// Package scgi serves an http.Handler over SCGI, the Simple Common Gateway
// Interface that nginx (scgi_pass), Apache (mod_proxy_scgi) and lighttpd
// (mod_scgi) speak, as Neil Schemenauer's SCGI protocol specification
// describes it.
//
// A connection carries one request: a netstring header
// ("<length>:<variables>,") of NUL-terminated names and values, then
// CONTENT_LENGTH bytes of body. The response is a CGI response ("Status:",
// headers, a blank line, the body) written on the same stream, after which
// the connection closes. The variables become an *http.Request exactly as
// FastCGI's and AJP's do (see package gateway): path, script name, remote
// address, HTTPS, Host, and the httpoxy rule.
//
// The header is checked strictly, since a web server never breaks these
// rules and a lenient parser is how one request is made to look like
// another: the length is digits without leading zeros and at most
// MaxHeaderBytes; CONTENT_LENGTH comes first and is a plain decimal; SCGI=1
// is present; no name is empty or repeated; the netstring ends with ','.
// A header that breaks any of them closes the connection with one line in
// ErrorLog naming the peer and the problem, such as
// `scgi: 127.0.0.1:4242: netstring length "0012" has a leading zero`.
//
// A header without CONTENT_LENGTH (the specification requires one; the
// common web servers always send it) is a body of unknown length, not an
// empty one: the handler reads what the connection carries until the web
// server closes its sending side, r.ContentLength is -1, and a read past
// MaxBodyBytes fails with *http.MaxBytesError.
//
// A body larger than MaxBodyBytes gets 413 without calling the handler.
// The handler reads at most CONTENT_LENGTH bytes, and a body that ends
// early fails its Read with io.ErrUnexpectedEOF. What the handler leaves
// unread is read and dropped before the end of the response is sent, since
// nginx and Apache write the whole body before they read the response. A handler panic becomes a
// 500 when none of the response has been sent; otherwise the response is
// cut short by closing the connection.
//
// # Not supported
//
// SCGI has no keep-alive, no multiplexing and no way to learn that the
// client went away, so a request's context ends only when its handler
// returns. 1xx interim responses are not sent.
package scgi
