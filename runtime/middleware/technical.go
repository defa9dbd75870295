package middleware

import (
	"bytes"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"runtime/debug"
)

// Technical shows Django's technical error pages, for a site running with Debug on: a 404 its
// handlers answer becomes a page listing routes (the site's URL patterns, as it registered
// them) and the path that matched none of them; a panic becomes a 500 page with the panic
// value and the stack of the goroutine that panicked. Never use it where the public can reach
// the site: the pages show the site's structure and code to whoever asks. A project adds it
// only when its settings have Debug on.
//
// It recovers panics as Recover does (and logs them the same way), so it takes Recover's place
// in the chain, or sits inside it. A response whose header has gone out can no longer become
// an error page: a panic then aborts the connection (http.ErrAbortHandler), as with Recover.
// A nil l logs to log.Default().
func Technical(routes []string, l *log.Logger) Middleware {
	if l == nil {
		l = log.Default()
	}
	routes = append([]string(nil), routes...)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tw := &technicalWriter{ResponseWriter: w}
			defer func() {
				v := recover()
				if v == nil {
					if tw.notFound {
						tw.page(http.StatusNotFound, notFoundPage, technicalData{Request: r, Routes: routes})
					}
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				stack := debug.Stack()
				logPanic(l, r, v, stack)
				if tw.status != 0 && !tw.notFound {
					panic(http.ErrAbortHandler)
				}
				tw.page(http.StatusInternalServerError, panicPage, technicalData{Request: r, Panic: fmt.Sprint(v), Stack: string(stack)})
			}()
			next.ServeHTTP(tw, r)
		})
	}
}

// technicalWriter holds back a 404's header and body, which the technical page replaces.
type technicalWriter struct {
	http.ResponseWriter
	status   int
	notFound bool
}

func (tw *technicalWriter) WriteHeader(code int) {
	if tw.status != 0 || code < 200 && code != http.StatusSwitchingProtocols {
		if tw.status == 0 {
			tw.ResponseWriter.WriteHeader(code)
		}
		return
	}
	tw.status = code
	if code == http.StatusNotFound {
		tw.notFound = true
		return
	}
	tw.ResponseWriter.WriteHeader(code)
}

func (tw *technicalWriter) Write(p []byte) (int, error) {
	if tw.status == 0 {
		tw.WriteHeader(http.StatusOK)
	}
	if tw.notFound {
		return len(p), nil
	}
	return tw.ResponseWriter.Write(p)
}

func (tw *technicalWriter) Flush() {
	if tw.notFound {
		return
	}
	if tw.status == 0 {
		tw.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(tw.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the writer's other methods.
func (tw *technicalWriter) Unwrap() http.ResponseWriter { return tw.ResponseWriter }

// page writes a technical page in place of whatever the handler had put in the header.
func (tw *technicalWriter) page(code int, t *template.Template, data technicalData) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		buf.Reset()
		fmt.Fprintf(&buf, "%d %s\n", code, http.StatusText(code))
	}
	h := tw.ResponseWriter.Header()
	clear(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	tw.ResponseWriter.WriteHeader(code)
	buf.WriteTo(tw.ResponseWriter)
}

type technicalData struct {
	Request *http.Request
	Routes  []string
	Panic   string
	Stack   string
}

const technicalFoot = `<p><small>You see this page because the site runs with Debug on. Turn Debug off (the
production settings) and it shows a standard page instead.</small></p></body></html>`

var notFoundPage = template.Must(template.New("404").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Page not found at {{.Request.URL.Path}}</title></head>
<body><h1>Page not found <small>(404)</small></h1>
<table><tr><th>Request Method:</th><td>{{.Request.Method}}</td></tr>
<tr><th>Request URL:</th><td>{{.Request.URL}}</td></tr></table>
{{if .Routes}}<p>Using the routes the site registered, in this order, the server tried these:</p>
<ol>{{range .Routes}}<li><code>{{.}}</code></li>{{end}}</ol>
<p>The path <code>{{.Request.URL.Path}}</code> matched none of them, or its view answered 404.</p>
{{else}}<p>The site listed no routes; the path <code>{{.Request.URL.Path}}</code> was answered with 404.</p>{{end}}
` + technicalFoot))

var panicPage = template.Must(template.New("500").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>panic at {{.Request.URL.Path}}</title></head>
<body><h1>panic: {{.Panic}}</h1>
<table><tr><th>Request Method:</th><td>{{.Request.Method}}</td></tr>
<tr><th>Request URL:</th><td>{{.Request.URL}}</td></tr></table>
<h2>Stack of the goroutine that panicked</h2>
<pre>{{.Stack}}</pre>
` + technicalFoot))
