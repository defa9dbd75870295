// Package fastcgi is a FastCGI 1.0 responder: it serves an http.Handler to
// web servers that speak FastCGI (nginx fastcgi_pass, Apache mod_proxy_fcgi
// and mod_fcgid, lighttpd mod_fastcgi, cgi-fcgi).
//
// Server has the shape of net/http.Server (Serve, Shutdown, Close, limits
// with defaults), so the process models in runtime/prefork and
// runtime/runfcgi run it as they run any server. Requests reach the handler
// mapped as runtime/gateway describes: r.URL.Path is the path inside the
// application and gateway.ScriptName(r) its public prefix.
//
// # What is supported
//
//   - Every record type of FastCGI 1.0, with padding, and name-value pairs
//     with 1- and 4-byte lengths.
//   - The Responder role. Authorizer and Filter requests are answered with
//     FCGI_UNKNOWN_ROLE; record types the specification does not define, or
//     that only an application sends, with FCGI_UNKNOWN_TYPE.
//   - FCGI_KEEP_CONN: without it the connection is closed after the
//     response, as the specification asks.
//   - Multiplexing: any number of requests at once on one connection
//     (FCGI_MPXS_CONNS is 1). Each has its own body buffer, so neither a slow
//     handler nor one that never reads its body stalls the others' records.
//     A body of up to BodyMemoryBytes is kept in memory; a larger one in an
//     unlinked temporary file, so memory stays bounded and the connection's
//     reader never waits.
//   - FCGI_GET_VALUES, answered by the library with exactly the variables
//     asked for that it knows: FCGI_MAX_CONNS, FCGI_MAX_REQS (the Server's
//     MaxConns and MaxRequests) and FCGI_MPXS_CONNS.
//   - FCGI_ABORT_REQUEST, and a connection closed by the web server, cancel
//     the request's context and fail its body reads; output written after
//     that is dropped.
//   - Exactly one FCGI_END_REQUEST per request, after an empty FCGI_STDOUT
//     when the request produced output.
//   - A request alone on its connection runs its handler on the connection's
//     goroutine, saving a switch between goroutines per request; a handler
//     that waits for its body or runs longer than a millisecond hands reading
//     to a new goroutine, so aborts, closed connections and multiplexed
//     requests are still seen while it runs.
//   - The handler starts when FCGI_PARAMS ends; it may read the body while
//     FCGI_STDIN still arrives. The body is CONTENT_LENGTH bytes: more STDIN
//     is dropped, less reads as io.ErrUnexpectedEOF. Without CONTENT_LENGTH
//     (a web server streaming a body it did not buffer: nginx with
//     fastcgi_request_buffering off, Cherokee) the body is what STDIN
//     carries up to its empty record, with r.ContentLength -1; when the web
//     server says CONTENT_TRANSFER_ENCODING=chunked (Cherokee passes chunked
//     bodies on still encoded), the handler reads it decoded. Cherokee 1.2.104
//     sends an empty STDIN record before such a body and, while the client's
//     body has not come, eight zero bytes in place of a record header: the
//     first is not taken for the body's end, the second is skipped while a
//     STDIN is open (anywhere else it is a protocol error).
//   - Limits (see Server): params beyond MaxHeaderBytes get 431, a
//     CONTENT_LENGTH beyond MaxBodyBytes gets 413, a body that does not fit
//     in MaxSpillBytes 503, a request beyond MaxRequests, beyond
//     MaxConnRequests on its connection, or refused by the Pool
//     FCGI_OVERLOADED, all without calling the handler. Params that take
//     longer than ReadHeaderTimeout, or a body slower than MinBodyRate,
//     close the connection; at MaxConns the connection quiet longest is
//     closed to make room for a new one.
//   - Bad input (a wrong version, a malformed record or name-value stream,
//     STDIN before PARAMS end) closes only that connection, with one log
//     line naming the peer and the reason.
//   - A handler panic becomes a 500 if no part of the response was sent,
//     and otherwise ends the response with application status 1; the
//     connection's other requests go on.
//
// # What is not
//
//   - The Authorizer and Filter roles.
//   - FCGI_STDERR: handlers log through their own loggers.
//   - Interim (1xx) responses and trailers, which a CGI response cannot carry.
//   - Starting as a CGI program when standard input is not a socket, and
//     FCGI_WEB_SERVER_ADDRS: runtime/runfcgi handles both.
//
// # Compared with net/http/fcgi
//
// net/http/fcgi answers FCGI_GET_VALUES with FCGI_MPXS_CONNS alone whatever
// was asked; feeds bodies through an unbuffered pipe, so that a handler that
// does not read its body stops every other request on the connection; on
// FCGI_ABORT_REQUEST neither cancels the request's context nor avoids a
// second FCGI_END_REQUEST; lets a handler panic end the process; and has
// no limits.
// This package does each of these as described above, with a tenth of the
// allocations per request.
package fastcgi
