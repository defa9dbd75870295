package middleware

import "net/http"

// A Middleware wraps a handler with behaviour of its own and, usually, calls it.
type Middleware func(http.Handler) http.Handler

// Chain wraps h with mws so that the first middleware listed is the outermost: a request passes
// through mws[0], then mws[1], …, then h, and the response comes back in the opposite order.
// Listing the chain in request order keeps it readable in one place (a project's
// site/middleware.go). Nil entries are skipped, so a chain can leave out a middleware that a
// setting turns off.
func Chain(h http.Handler, mws ...Middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		if mws[i] != nil {
			h = mws[i](h)
		}
	}
	return h
}
