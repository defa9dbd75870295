// Package middleware holds the reusable parts of a generated project's middleware chain:
// Chain, request logging (Logger), panic recovery (Recover), Host header checking
// (AllowedHosts), the request-finished hook (RequestFinished, OnFinish) and, for a site with
// Debug on only, Django's technical 404 and 500 pages (Technical).
//
// A middleware is a func(http.Handler) http.Handler, the Go form of WSGI middleware: it wraps
// the application object and may delegate to it. Every front end a generated project has
// (runserver's HTTP, FastCGI, SCGI, AJP) serves the same wrapped handler, so a middleware sees
// the same requests whichever protocol carried them.
//
// # The request-finished hook
//
// Django sends its request_finished signal when the WSGI server calls close() on the response,
// and Django's deployment guide warns that some WSGI middleware never call it, so the signal is
// lost and database or cache connections stay open. In Go a response is complete when the
// outermost handler's ServeHTTP returns: net/http and appgen's protocol servers never let a
// handler write after that. RequestFinished hooks on that return, in a deferred call, so they
// fire exactly once per request whatever the inner code does: when nothing reads or closes the
// request body, when a handler panics (the hook runs while the panic goes on outwards), and
// when the client goes away (Finished.ClientGone says so). Put RequestFinished first in the
// chain so it wraps everything else.
//
// This package uses the standard library only, as all of appgen's runtime does.
package middleware
