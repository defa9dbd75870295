package gateway

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"testing"
)

// parsed is a CGI response split into its parts.
type parsed struct {
	status int
	header http.Header
	body   string
}

func parseCGI(t *testing.T, raw string) parsed {
	t.Helper()
	tr := textproto.NewReader(bufio.NewReader(strings.NewReader(raw)))
	h, err := tr.ReadMIMEHeader()
	if err != nil {
		t.Fatalf("response %q: %v", raw, err)
	}
	var p parsed
	if _, err := fmt.Sscanf(h.Get("Status"), "%d", &p.status); err != nil {
		t.Fatalf("response %q: no Status line", raw)
	}
	delete(h, "Status")
	p.header = http.Header(h)
	b, _ := io.ReadAll(tr.R)
	p.body = string(b)
	return p
}

// flushRecorder counts Flush calls on the destination.
type flushRecorder struct {
	strings.Builder
	flushes, writes int
}

func (f *flushRecorder) Write(p []byte) (int, error) { f.writes++; return f.Builder.Write(p) }
func (f *flushRecorder) Flush() error                { f.flushes++; return nil }

func TestResponseWriter(t *testing.T) {
	big := strings.Repeat("x", 10000)
	tests := []struct {
		name       string
		method     string
		handler    func(w http.ResponseWriter)
		wantStatus int
		wantHeader map[string]string // "" means absent
		wantBody   string
	}{
		{"nothing written", "GET", func(w http.ResponseWriter) {}, 200,
			map[string]string{"Content-Length": "0", "Content-Type": ""}, ""},
		{"sniffed html with length", "GET", func(w http.ResponseWriter) { io.WriteString(w, "<html><body>hi</body></html>") }, 200,
			map[string]string{"Content-Type": "text/html; charset=utf-8", "Content-Length": "28"}, "<html><body>hi</body></html>"},
		{"explicit type kept", "GET", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{}`))
		}, 200, map[string]string{"Content-Type": "application/json"}, "{}"},
		{"content-encoding stops sniffing", "GET", func(w http.ResponseWriter) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write([]byte("\x1f\x8b"))
		}, 200, map[string]string{"Content-Type": ""}, "\x1f\x8b"},
		{"404 with status text", "GET", func(w http.ResponseWriter) { w.WriteHeader(404) }, 404,
			map[string]string{"Content-Length": "0"}, ""},
		{"204 has no length", "GET", func(w http.ResponseWriter) { w.WriteHeader(204) }, 204,
			map[string]string{"Content-Length": ""}, ""},
		{"1xx ignored", "GET", func(w http.ResponseWriter) { w.WriteHeader(103); w.WriteHeader(201) }, 201, nil, ""},
		{"header changes after WriteHeader ignored", "GET", func(w http.ResponseWriter) {
			w.Header().Set("X-A", "1")
			w.WriteHeader(200)
			w.Header().Set("X-B", "2")
		}, 200, map[string]string{"X-A": "1", "X-B": ""}, ""},
		{"large body streamed, no length", "GET", func(w http.ResponseWriter) { io.WriteString(w, big) }, 200,
			map[string]string{"Content-Length": "", "Content-Type": "text/plain; charset=utf-8"}, big},
		{"many small writes", "GET", func(w http.ResponseWriter) {
			for i := 0; i < 1000; i++ {
				w.Write([]byte("0123456789"))
			}
		}, 200, map[string]string{"Content-Length": ""}, strings.Repeat("0123456789", 1000)},
		{"HEAD body dropped, length kept", "HEAD", func(w http.ResponseWriter) { io.WriteString(w, "<p>hello</p>") }, 200,
			map[string]string{"Content-Length": "12", "Content-Type": "text/html; charset=utf-8"}, ""},
		{"HEAD large body dropped, length counted", "HEAD", func(w http.ResponseWriter) { io.WriteString(w, big) }, 200,
			map[string]string{"Content-Length": "10000"}, ""},
		{"HEAD nothing written has no length", "HEAD", func(w http.ResponseWriter) {}, 200,
			map[string]string{"Content-Length": ""}, ""},
		{"newlines in values become spaces", "GET", func(w http.ResponseWriter) {
			w.Header().Set("X-Evil", "a\r\nSet-Cookie: b")
		}, 200, map[string]string{"X-Evil": "a  Set-Cookie: b", "Set-Cookie": ""}, ""},
		{"a lone LF or CR in a value becomes a space", "GET", func(w http.ResponseWriter) {
			w.Header().Set("X-Lf", "a\nSet-Cookie: b")
			w.Header().Set("X-Cr", "c\rd")
		}, 200, map[string]string{"X-Lf": "a Set-Cookie: b", "X-Cr": "c d", "Set-Cookie": ""}, ""},
		{"spaces around a value trimmed", "GET", func(w http.ResponseWriter) {
			w.Header().Set("X-Pad", " \tv w ")
		}, 200, map[string]string{"X-Pad": "v w"}, ""},
		{"invalid header name skipped", "GET", func(w http.ResponseWriter) {
			w.Header()["Bad Name"] = []string{"x"}
		}, 200, map[string]string{"Bad Name": ""}, ""},
		{"unknown status code", "GET", func(w http.ResponseWriter) { w.WriteHeader(599) }, 599, nil, ""},
		{"repeated header values kept in order", "GET", func(w http.ResponseWriter) {
			w.Header().Add("Set-Cookie", "a=1")
			w.Header().Add("Set-Cookie", "b=2")
		}, 200, map[string]string{"Set-Cookie": "a=1"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			r, _ := http.NewRequest(tt.method, "/", nil)
			w := NewResponseWriter(&out, r, nil)
			tt.handler(w)
			if err := w.Finish(); err != nil {
				t.Fatal(err)
			}
			p := parseCGI(t, out.String())
			if p.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", p.status, tt.wantStatus)
			}
			for k, v := range tt.wantHeader {
				if got := p.header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if p.body != tt.wantBody {
				t.Errorf("body has %d bytes %.40q, want %d bytes %.40q", len(p.body), p.body, len(tt.wantBody), tt.wantBody)
			}
		})
	}
}

func TestResponseWriterStatusLine(t *testing.T) {
	var out strings.Builder
	w := NewResponseWriter(&out, nil, nil)
	w.WriteHeader(404)
	w.Finish()
	if !strings.HasPrefix(out.String(), "Status: 404 Not Found\r\n") {
		t.Errorf("response starts %q, want the Status line first", out.String())
	}
	if !strings.HasSuffix(out.String(), "\r\n\r\n") {
		t.Errorf("response %q does not end its header with a blank line", out.String())
	}
}

func TestResponseWriterErrors(t *testing.T) {
	t.Run("body not allowed", func(t *testing.T) {
		w := NewResponseWriter(io.Discard, nil, nil)
		w.WriteHeader(304)
		if _, err := w.Write([]byte("x")); !errors.Is(err, http.ErrBodyNotAllowed) {
			t.Errorf("Write after 304 = %v, want ErrBodyNotAllowed", err)
		}
	})
	t.Run("past content length", func(t *testing.T) {
		w := NewResponseWriter(io.Discard, nil, nil)
		w.Header().Set("Content-Length", "3")
		if _, err := w.Write([]byte("abc")); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("d")); !errors.Is(err, http.ErrContentLength) {
			t.Errorf("Write past Content-Length = %v, want ErrContentLength", err)
		}
	})
	t.Run("destination error is sticky", func(t *testing.T) {
		w := NewResponseWriter(failWriter{}, nil, nil)
		w.Write(make([]byte, 2*bufSize))
		if _, err := w.Write([]byte("x")); err == nil {
			t.Error("Write after a failed send succeeded")
		}
		if err := w.Finish(); err == nil {
			t.Error("Finish after a failed send succeeded")
		}
	})
	t.Run("invalid code panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("WriteHeader(42) did not panic")
			}
		}()
		NewResponseWriter(io.Discard, nil, nil).WriteHeader(42)
	})
	t.Run("superfluous WriteHeader logged", func(t *testing.T) {
		var logged []string
		w := NewResponseWriter(io.Discard, nil, func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) })
		w.WriteHeader(200)
		w.WriteHeader(500)
		if len(logged) != 1 || !strings.Contains(logged[0], "superfluous WriteHeader(500)") || !strings.Contains(logged[0], "response_test.go") {
			t.Errorf("logged %q, want one superfluous WriteHeader line naming the caller", logged)
		}
		if w.Status() != 200 {
			t.Errorf("Status = %d, want 200", w.Status())
		}
	})
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestResponseWriterFlush(t *testing.T) {
	var out flushRecorder
	w := NewResponseWriter(&out, nil, nil)
	io.WriteString(w, "part one")
	if w.Sent() {
		t.Fatal("Sent before Flush")
	}
	http.NewResponseController(w).Flush()
	if out.flushes != 1 || !strings.HasSuffix(out.String(), "part one") || !w.Sent() {
		t.Fatalf("after Flush: %d flushes, output %q; want 1 and the body sent", out.flushes, out.String())
	}
	io.WriteString(w, " and two")
	w.Finish()
	p := parseCGI(t, out.String())
	if p.body != "part one and two" || p.header.Get("Content-Length") != "" {
		t.Errorf("body %q, Content-Length %q; want the whole body and no length after a flush", p.body, p.header.Get("Content-Length"))
	}
	if w.Fail(500) {
		t.Error("Fail succeeded after the response was sent")
	}
}

func TestResponseWriterOneWrite(t *testing.T) {
	var out flushRecorder
	w := NewResponseWriter(&out, nil, nil)
	w.Header().Set("X-A", "1")
	io.WriteString(w, "small body")
	w.Finish()
	if out.writes != 1 {
		t.Errorf("small response took %d writes, want 1", out.writes)
	}
}

func TestResponseWriterFail(t *testing.T) {
	var out strings.Builder
	w := NewResponseWriter(&out, nil, nil)
	w.Header().Set("X-Secret", "1")
	io.WriteString(w, "half a page")
	if !w.Fail(500) {
		t.Fatal("Fail before anything was sent reported false")
	}
	w.Finish()
	p := parseCGI(t, out.String())
	if p.status != 500 || p.header.Get("X-Secret") != "" || p.body != "Internal Server Error\n" {
		t.Errorf("after Fail: status %d, X-Secret %q, body %q; want 500, none, the status text", p.status, p.header.Get("X-Secret"), p.body)
	}
}

func TestResponseWriterReset(t *testing.T) {
	var a, b strings.Builder
	w := NewResponseWriter(&a, nil, nil)
	w.Header().Set("X-First", "1")
	w.WriteHeader(404)
	w.Finish()
	r, _ := http.NewRequest("GET", "/", nil)
	w.Reset(&b, r, nil)
	io.WriteString(w, "ok")
	w.Finish()
	p := parseCGI(t, b.String())
	if p.status != 200 || p.header.Get("X-First") != "" || p.body != "ok" {
		t.Errorf("reused writer: status %d, X-First %q, body %q; want 200, none, ok", p.status, p.header.Get("X-First"), p.body)
	}
}

// BenchmarkResponseWriter measures the writer alone, without a server
// around it, so a change to its bookkeeping shows above the noise of
// sockets: a small page, one whose type is sniffed, and one of 64 KiB
// written in 1 KiB pieces.
func BenchmarkResponseWriter(b *testing.B) {
	r, err := http.NewRequest(http.MethodGet, "/", nil)
	if err != nil {
		b.Fatal(err)
	}
	html := []byte("<!DOCTYPE html><title>Hello</title><p>Hello, world!\n")
	piece := []byte(strings.Repeat("x", 1024))
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter)
	}{
		{"small", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, "Hello, world!\n")
		}},
		{"sniffed", func(w http.ResponseWriter) { w.Write(html) }},
		{"64KiB", func(w http.ResponseWriter) {
			for range 64 {
				w.Write(piece)
			}
		}},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			w := NewResponseWriter(io.Discard, r, nil)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				w.Reset(io.Discard, r, nil)
				tt.handler(w)
				if err := w.Finish(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestResponseWriterReuseAllocs: a pooled ResponseWriter answering a small
// page allocates nothing, the first WriteString included.
func TestResponseWriterReuseAllocs(t *testing.T) {
	req, _ := http.NewRequest("GET", "/", nil)
	w := NewResponseWriter(io.Discard, req, nil)
	page := func() {
		w.Reset(io.Discard, req, nil)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello, world!\n")
		w.Finish()
	}
	page() // grows the buffers and the header map once
	// Header().Set allocates its []string, as net/http's does; nothing else may.
	if n := testing.AllocsPerRun(100, page); n > 1 {
		t.Errorf("%v allocations per response, want at most 1 (the header's []string)", n)
	}
}

// TestGatewayHeadersNotSent pins issue 14: a handler's Status header went
// out as a second status line (Apache took it), and a 200 with a Location
// became a redirect in mod_proxy_scgi and mod_fcgid.
func TestGatewayHeadersNotSent(t *testing.T) {
	tests := []struct {
		name      string
		code      int
		header    http.Header
		wantLines []string
		forbidden []string
	}{
		{"Status header", 200, http.Header{"Status": {"404 Not Found"}, "X-A": {"1"}},
			[]string{"Status: 200 OK", "X-A: 1"}, []string{"Status: 404"}},
		{"status in lower case", 200, http.Header{"status": {"500"}},
			[]string{"Status: 200 OK"}, []string{"status: 500"}},
		{"Location on a 200", 200, http.Header{"Location": {"/other"}},
			[]string{"Status: 200 OK"}, []string{"Location"}},
		{"Location on a 302 kept", 302, http.Header{"Location": {"/other"}},
			[]string{"Status: 302 Found", "Location: /other"}, nil},
		{"Location on a 201 kept", 201, http.Header{"Location": {"/items/1"}},
			[]string{"Status: 201 Created", "Location: /items/1"}, nil},
		{"Transfer-Encoding", 200, http.Header{"Transfer-Encoding": {"chunked"}},
			[]string{"Status: 200 OK"}, []string{"Transfer-Encoding"}},
		{"X-Accel-Redirect passes", 200, http.Header{"X-Accel-Redirect": {"/protected/f"}},
			[]string{"X-Accel-Redirect: /protected/f"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			w := NewResponseWriter(&out, nil, nil)
			for k, v := range tt.header {
				w.Header()[k] = v
			}
			w.WriteHeader(tt.code)
			io.WriteString(w, "body")
			w.Finish()
			head, _, _ := strings.Cut(out.String(), "\r\n\r\n")
			lines := strings.Split(head, "\r\n")
			for _, want := range tt.wantLines {
				if !slices.Contains(lines, want) {
					t.Errorf("header %q lacks %q", lines, want)
				}
			}
			for _, bad := range tt.forbidden {
				for _, l := range lines {
					if strings.HasPrefix(l, bad) && l != lines[0] {
						t.Errorf("header %q holds %q", lines, l)
					}
				}
			}
		})
	}
}
