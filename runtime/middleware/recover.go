package middleware

import (
	"log"
	"net/http"
	"runtime/debug"
)

// Recover turns a panic in the handlers it wraps into a 500 response for that request only, logs
// the panic value with its stack, and lets the server go on serving everyone else.
//
// When the handler had already started its response, the status can no longer change; Recover
// then logs the panic and re-panics with http.ErrAbortHandler, so the server cuts the
// connection and the client sees a truncated response rather than one that looks complete.
// A panic with http.ErrAbortHandler itself is passed on without logging, as net/http does.
// A nil l logs to log.Default().
func Recover(l *log.Logger) Middleware {
	if l == nil {
		l = log.Default()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := record(w)
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logPanic(l, r, v, debug.Stack())
				if rec.headerWritten() {
					panic(http.ErrAbortHandler)
				}
				// Headers the handler set for the response it never sent (a Content-Length, a
				// cookie) do not belong on the error page.
				clear(rec.Header())
				http.Error(rec, "500 Internal Server Error", http.StatusInternalServerError)
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

// logPanic is the one line, and the stack, that a recovered panic leaves in the log.
func logPanic(l *log.Logger, r *http.Request, v any, stack []byte) {
	l.Printf("middleware: panic serving %s %s: %v\n%s", r.Method, r.URL.Path, v, stack)
}
