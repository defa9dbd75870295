// Package serve is what the protocol servers (runtime/fastcgi, runtime/scgi,
// runtime/ajp) share, so each one implements only its wire format:
//
//   - the accept loop, with backoff on temporary errors (5ms doubling to 1s,
//     as net/http does) and at most MaxConns connections served at once: at
//     the limit it accepts one more and makes room for it by closing the
//     connection quiet longest (New, or Idle), or waits for one to close or
//     go quiet, leaving further peers in the kernel's backlog meanwhile; so
//     connections held open without requests cannot lock anyone out;
//   - WaitInput, which waits for a connection's first byte without reading
//     it, so that protocols take their buffers only once a peer sends
//     something;
//   - the limits every protocol shares: the request-head deadline and the
//     minimum body rate (DefaultReadHeaderTimeout, BodyDeadline) and the
//     server-wide budget of body bytes buffered on disk (MaxSpillBytes);
//   - the set of live connections and their state, New, Idle or Active;
//   - Shutdown (stop accepting, close idle connections, wait for active ones
//     to become idle, then close them too) and Close (close everything now),
//     after which Serve returns http.ErrServerClosed;
//   - the concurrent-request limit (MaxRequests) and the optional Pool that
//     runs handlers;
//   - one log line per connection problem, "fastcgi: 127.0.0.1:51234: reason";
//   - handler panic recovery.
//
// # How a protocol server uses it
//
// A protocol Server holds a serve.Server, fills in its fields from its own
// (resolving its defaults first), and forwards Serve, Shutdown and Close:
//
//	func (s *Server) Serve(l net.Listener) error {
//		s.once.Do(func() {
//			s.srv.Protocol = "scgi"
//			s.srv.ErrorLog = s.ErrorLog
//			s.srv.MaxConns = s.maxConns()
//			s.srv.MaxRequests = s.maxRequests()
//			s.srv.Pool = s.Pool
//		})
//		return s.srv.Serve(l, s.serveConn)
//	}
//	func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }
//	func (s *Server) Close() error                       { return s.srv.Close() }
//
// serveConn runs in its own goroutine, one per connection, and owns it: it
// reads requests until the peer goes away, the protocol says to close, or a
// read fails because Shutdown or Close closed the connection. When it
// returns, the connection is closed and forgotten. A panic in serveConn is
// logged with its stack and closes only that connection.
//
// When a read fails because Shutdown or Close closed the connection,
// c.Closed reports true: that is not worth a log line.
//
// A connection starts New. serveConn calls c.SetActive when a request
// begins (after its first bytes arrived) and must stop if it reports false:
// Shutdown has closed the connection. It calls c.SetIdle when no request is
// in flight any more. Management records (FastCGI's GET_VALUES, AJP's
// CPING) change neither: a connection that carries only those stays first
// in line to be closed for room, and its idle timeout, timed from
// c.QuietSince, is not extended by them. Shutdown closes Idle connections once they have been
// idle for a second, and New ones once they have sent nothing for five, so a
// request that has begun, or that a peer has just connected to send, or just
// sent on a kept connection, is finished before its connection is closed.
//
// Each request should take a slot with s.AcquireRequest (false: answer
// "overloaded", a 503 in every protocol), run its handler through s.Go
// (false: the Pool and its queue are full, answer "overloaded" too; a
// workpool.Pool queues a task while MaxWorkers run; without a Pool, Go
// reuses idle worker goroutines, whose stacks have already grown), or
// through s.Run when the connection's goroutine would only wait for the
// handler (Run runs it on that goroutine, within the Pool's limit when the
// Pool has a Run method, and saves a switch between goroutines per request;
// s.RunsInline tells whether it will), call the handler via
// c.CallHandler, which recovers a panic, and give the slot back with
// s.ReleaseRequest. After a panic CallHandler returns true and the protocol
// replaces the response with a 500 if none of it was sent (see
// gateway.ResponseWriter.Fail), or ends it as it can.
package serve
