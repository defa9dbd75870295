package middleware

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTechnical pins issue 10's "with Debug on, a 404 lists the routes and a 500 shows the
// panic and stack": the pages replace the handler's 404 and a panic's plain 500, and escape
// what they show.
func TestTechnical(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "home") })
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("boom <b>") })
	mux.HandleFunc("GET /late", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "partial")
		panic("late")
	})
	routes := []string{"GET /{$}", "GET /boom", "GET /late"}
	tests := []struct {
		name, path string
		status     int
		body       []string // fragments
		not        []string
	}{
		{"a page", "/", 200, []string{"home"}, []string{"<html"}},
		{"404 lists the routes", "/nope<x>", 404, []string{"Page not found", "<li><code>GET /{$}</code></li>", "<li><code>GET /boom</code></li>", "The path <code>/nope&lt;x&gt;</code> matched none"}, []string{"404 page not found\n", "<x>"}},
		{"panic shows the value and stack", "/boom", 500, []string{"panic: boom &lt;b&gt;", "Stack of the goroutine that panicked", "technical_test.go"}, []string{"<b>"}},
	}
	logger, buf := newLog()
	h := Logger(logger)(Technical(routes, logger)(mux))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "http://example.com"+strings.ReplaceAll(tt.path, "<", "%3C"), nil))
			body := w.Body.String()
			if w.Code != tt.status {
				t.Errorf("GET %s = %d, want %d", tt.path, w.Code, tt.status)
			}
			for _, f := range tt.body {
				if !strings.Contains(body, f) {
					t.Errorf("GET %s body lacks %q:\n%s", tt.path, f, body)
				}
			}
			for _, f := range tt.not {
				if strings.Contains(body, f) {
					t.Errorf("GET %s body has %q:\n%s", tt.path, f, body)
				}
			}
			if tt.status != 200 && w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", w.Header().Get("Content-Type"))
			}
		})
	}
	if !strings.Contains(buf.String(), "middleware: panic serving GET /boom: boom <b>") || !strings.Contains(buf.String(), `/boom HTTP/1.1" 500`) {
		t.Errorf("log = %q, want the panic and its 500", buf.String())
	}
	t.Run("a panic after the header went out aborts", func(t *testing.T) {
		defer func() {
			if v := recover(); v != http.ErrAbortHandler {
				t.Errorf("panic = %v, want http.ErrAbortHandler", v)
			}
		}()
		Technical(routes, logger)(mux).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/late", nil))
	})
}
