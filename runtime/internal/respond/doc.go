// Package respond is the bookkeeping of an http.ResponseWriter that the
// protocol writers share (gateway.ResponseWriter for FastCGI and SCGI, and
// AJP13's), so net/http's rules live in one place and each writer keeps
// only its framing:
//
//   - WriteHeader: a code outside 100-999 panics; a second call is logged
//     as superfluous; 1xx codes are ignored (101 only when the framing has
//     no way to send it); the header is fixed at the call.
//   - Which statuses allow a body (http.ErrBodyNotAllowed) and the declared
//     Content-Length (http.ErrContentLength).
//   - A HEAD body is counted, not sent, but its first 512 bytes are kept
//     for Content-Type sniffing.
//   - The Content-Type sniffed when the handler set none (and no
//     Content-Encoding), and whether a Content-Length can be added when the
//     handler is done.
//   - Replacing an unsent response with a plain-text error after a panic.
//
// A writer holds a State by value (never embedded, so its methods do not
// join the writer's method set), calls State.WriteHeader from its own
// WriteHeader and encodes the header when that reports true, and asks
// Admit with each write before it frames the bytes. The State knows nothing
// of the wire: the writer tells it when the header has gone (Sent).
package respond
