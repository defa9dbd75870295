package middleware

import (
	"log"
	"net/http"
	"strconv"
	"time"
)

// Logger logs one line per request once its response is complete, in the spirit of Django's
// runserver log:
//
//	127.0.0.1:50712 "GET /hello?x=1 HTTP/1.1" 200 13 1.204ms
//
// The fields are the remote address, the request line as the client sent it, the status, the
// body bytes written and the time taken. A request whose handler panicked past the logger is
// logged with the status "panic"; put Recover inside Logger so the line shows the 500 instead.
// A request is logged once however many Loggers wrap it: by the innermost, whose logger is
// the one closest to the application's own choices; the outer ones see the line written and
// stay quiet. A nil l logs to log.Default().
func Logger(l *log.Logger) Middleware {
	if l == nil {
		l = log.Default()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := record(w)
			returned := false
			defer func() {
				if rec.logged {
					return
				}
				rec.logged = true
				l.Output(2, logLine(r, rec, returned, time.Since(start)))
			}()
			next.ServeHTTP(rec, r)
			returned = true
		})
	}
}

// logLine formats the line with appends into one buffer: the logger is on every request, and
// fmt's boxing of each argument costs more than the rest of the chain.
func logLine(r *http.Request, rec *recorder, returned bool, took time.Duration) string {
	uri := r.RequestURI
	if uri == "" {
		// Requests made in process have no RequestURI; the URL stands in for it.
		uri = r.URL.RequestURI()
	}
	var stack [256]byte
	b := append(stack[:0], r.RemoteAddr...)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, r.Method+" "+uri+" "+r.Proto)
	b = append(b, ' ')
	switch {
	case !returned:
		b = append(b, "panic"...)
	case rec.status == 0:
		// A handler that wrote nothing gets 200 from the server.
		b = strconv.AppendInt(b, http.StatusOK, 10)
	default:
		b = strconv.AppendInt(b, int64(rec.status), 10)
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, rec.written, 10)
	b = append(b, ' ')
	b = append(b, took.Round(time.Microsecond).String()...)
	return string(b)
}
