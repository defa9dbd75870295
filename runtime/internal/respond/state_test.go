package respond

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// writer stands for a protocol writer: State.WriteHeader expects to be
// called from the writer's WriteHeader, which the handler calls.
type writer struct {
	st     State
	header http.Header
	logs   []string
}

func newWriter(head, upgrade bool, h http.Header) *writer {
	w := &writer{header: h}
	w.st.Reset(head, upgrade)
	return w
}

// started returns a writer whose handler set Content-Length cl (unless
// empty) and called WriteHeader(status) (unless 0).
func started(head bool, status int, cl string) *writer {
	h := http.Header{}
	if cl != "" {
		h.Set("Content-Length", cl)
	}
	w := newWriter(head, false, h)
	if status != 0 {
		w.WriteHeader(status)
	}
	return w
}

// write is the handler writing n bytes.
func (w *writer) write(n int) error {
	var buf []byte
	_, _, err := w.st.Admit(&buf, make([]byte, n), nil)
	return err
}

func (w *writer) logf(format string, args ...any) {
	w.logs = append(w.logs, fmt.Sprintf(format, args...))
}

func (w *writer) WriteHeader(code int) bool {
	return w.st.WriteHeader(code, w.header, w.logf)
}

func TestWriteHeader(t *testing.T) {
	tests := []struct {
		name        string
		upgrade     bool
		codes       []int
		want        []bool
		status      int
		bodyAllowed bool
	}{
		{"ok", false, []int{200}, []bool{true}, 200, true},
		{"not found", false, []int{404}, []bool{true}, 404, true},
		{"no content", false, []int{204}, []bool{true}, 204, false},
		{"not modified", false, []int{304}, []bool{true}, 304, false},
		{"unknown code", false, []int{999}, []bool{true}, 999, true},
		{"1xx ignored", false, []int{100, 103, 200}, []bool{false, false, true}, 200, true},
		{"101 ignored without upgrade", false, []int{101, 200}, []bool{false, true}, 200, true},
		{"101 final with upgrade", true, []int{101}, []bool{true}, 101, false},
		{"other 1xx ignored with upgrade", true, []int{103, 200}, []bool{false, true}, 200, true},
		{"second call ignored", false, []int{201, 500}, []bool{true, false}, 201, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWriter(false, tt.upgrade, nil)
			for i, code := range tt.codes {
				if got := w.WriteHeader(code); got != tt.want[i] {
					t.Errorf("WriteHeader(%d) = %v, want %v", code, got, tt.want[i])
				}
			}
			if w.st.Status != tt.status || !w.st.WroteHeader() || w.st.BodyAllowed() != tt.bodyAllowed {
				t.Errorf("Status %d, WroteHeader %v, BodyAllowed %v; want %d, true, %v",
					w.st.Status, w.st.WroteHeader(), w.st.BodyAllowed(), tt.status, tt.bodyAllowed)
			}
		})
	}
}

func TestWriteHeaderInvalidPanics(t *testing.T) {
	for _, code := range []int{-1, 0, 99, 1000} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			defer func() {
				want := fmt.Sprintf("invalid WriteHeader code %d", code)
				if r := recover(); r != want {
					t.Errorf("panic %v, want %q", r, want)
				}
			}()
			w := newWriter(false, false, nil)
			w.WriteHeader(code)
		})
	}
}

func TestWriteHeaderSuperfluousNamesCaller(t *testing.T) {
	w := newWriter(false, false, nil)
	w.WriteHeader(200)
	_, file, line, _ := runtime.Caller(0)
	w.WriteHeader(404) // must stay on the line after runtime.Caller
	want := fmt.Sprintf("superfluous WriteHeader(404) call from %s:%d", file, line+1)
	if len(w.logs) != 1 || w.logs[0] != want {
		t.Fatalf("logged %q, want [%q]", w.logs, want)
	}
	if !strings.HasSuffix(filepath.ToSlash(file), "respond/state_test.go") {
		t.Fatalf("caller file %s", file)
	}

	t.Run("nil logf", func(t *testing.T) {
		var st State
		st.Reset(false, false)
		st.WriteHeader(200, nil, nil)
		if st.WriteHeader(500, nil, nil) || st.Status != 200 {
			t.Errorf("second WriteHeader took effect: status %d", st.Status)
		}
	})
}

func TestWriteHeaderReadsHeader(t *testing.T) {
	tests := []struct {
		name     string
		header   http.Header
		declared int64
		sniff    bool // a Content-Type is sniffed
		length   bool // a Content-Length can be added at the end
	}{
		{"none", nil, -1, true, true},
		{"content length", http.Header{"Content-Length": {" 12 "}}, 12, true, false},
		{"zero content length", http.Header{"Content-Length": {"0"}}, 0, true, false},
		{"negative content length", http.Header{"Content-Length": {"-1"}}, -1, true, true},
		{"bad content length", http.Header{"Content-Length": {"12x"}}, -1, true, true},
		{"first content length counts", http.Header{"Content-Length": {"x", "5"}}, -1, true, true},
		{"content type", http.Header{"Content-Type": {"text/css"}}, -1, false, true},
		{"empty content type still set", http.Header{"Content-Type": {""}}, -1, false, true},
		{"content encoding", http.Header{"Content-Encoding": {"gzip"}}, -1, false, true},
		{"empty content encoding", http.Header{"Content-Encoding": {""}}, -1, true, true},
		{"transfer encoding", http.Header{"Transfer-Encoding": {"chunked"}}, -1, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWriter(false, false, tt.header)
			w.WriteHeader(200)
			if w.st.Declared != tt.declared {
				t.Errorf("Declared = %d, want %d", w.st.Declared, tt.declared)
			}
			if got := w.st.SniffedType([]byte("<html>")) != ""; got != tt.sniff {
				t.Errorf("sniffed %v, want %v", got, tt.sniff)
			}
			if got := w.st.AddLength(true); got != tt.length {
				t.Errorf("AddLength(true) = %v, want %v", got, tt.length)
			}
		})
	}
}

func TestHeaderFixedAtWriteHeader(t *testing.T) {
	h := http.Header{}
	w := newWriter(false, false, h)
	w.WriteHeader(200)
	h.Set("Content-Type", "text/css")
	h.Set("Content-Length", "3")
	if w.st.SniffedType([]byte("<html>")) == "" || w.st.Declared != -1 {
		t.Errorf("headers set after WriteHeader were read: Declared %d", w.st.Declared)
	}
}

func TestAdmit(t *testing.T) {
	errSend := errors.New("broken pipe")
	tests := []struct {
		name    string
		head    bool
		status  int
		cl      string
		werr    error
		writes  []string
		ns      []int
		errs    []error
		done    bool // for every write
		written int64
		buf     string // what HEAD keeps for sniffing
	}{
		{"ok", false, 200, "", nil, []string{"abc", "", "d"}, []int{3, 0, 1}, []error{nil, nil, nil}, false, 4, ""},
		{"send error", false, 200, "", errSend, []string{"abc"}, []int{0}, []error{errSend}, true, 0, ""},
		{"send error before status", false, 204, "", errSend, []string{"abc"}, []int{0}, []error{errSend}, true, 0, ""},
		{"no content", false, 204, "", nil, []string{"a", ""}, []int{0, 0}, []error{http.ErrBodyNotAllowed, http.ErrBodyNotAllowed}, true, 0, ""},
		{"not modified", false, 304, "", nil, []string{"a"}, []int{0}, []error{http.ErrBodyNotAllowed}, true, 0, ""},
		{"within length", false, 200, "5", nil, []string{"ab", "cde", ""}, []int{2, 3, 0}, []error{nil, nil, nil}, false, 5, ""},
		{"zero length", false, 200, "0", nil, []string{"", "a"}, []int{0, 0}, []error{nil, http.ErrContentLength}, false, 0, ""},
		{"head", true, 200, "", nil, []string{"<html>", "x"}, []int{6, 1}, []error{nil, nil}, true, 7, "<html>x"},
		{"head past length", true, 200, "2", nil, []string{"abc"}, []int{0}, []error{http.ErrContentLength}, true, 0, ""},
		{"head keeps sniff length", true, 200, "", nil, []string{strings.Repeat("a", 500), strings.Repeat("b", 20), "c"},
			[]int{500, 20, 1}, []error{nil, nil, nil}, true, 521, strings.Repeat("a", 500) + strings.Repeat("b", 12)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := started(tt.head, tt.status, tt.cl)
			var buf []byte
			for i, p := range tt.writes {
				n, done, err := w.st.Admit(&buf, []byte(p), tt.werr)
				wantDone := tt.done || tt.errs[i] != nil
				if n != tt.ns[i] || done != wantDone || !errors.Is(err, tt.errs[i]) || (err == nil) != (tt.errs[i] == nil) {
					t.Errorf("Admit(%q) = %d, %v, %v; want %d, %v, %v", p, n, done, err, tt.ns[i], wantDone, tt.errs[i])
				}
			}
			if w.st.Written != tt.written || string(buf) != tt.buf {
				t.Errorf("Written %d, buf %q; want %d, %q", w.st.Written, buf, tt.written, tt.buf)
			}
		})
	}
}

func TestTake(t *testing.T) {
	tests := []struct {
		name    string
		head    bool
		status  int // 0: no WriteHeader
		cl      string
		close   bool
		n       int
		want    bool
		written int64
	}{
		{"ok", false, 200, "", false, 10, true, 10},
		{"before WriteHeader", false, 0, "", false, 10, false, 0},
		{"head", true, 200, "", false, 10, false, 0},
		{"no content", false, 204, "", false, 1, false, 0},
		{"fits length", false, 200, "10", false, 10, true, 10},
		{"past length", false, 200, "9", false, 10, false, 0},
		{"closed", false, 200, "", true, 1, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := started(tt.head, tt.status, tt.cl)
			if tt.close {
				w.st.Close()
			}
			if got := w.st.Take(tt.n); got != tt.want || w.st.Written != tt.written {
				t.Errorf("Take(%d) = %v with Written %d, want %v with %d", tt.n, got, w.st.Written, tt.want, tt.written)
			}
		})
	}
}

func TestSniffWant(t *testing.T) {
	tests := []struct {
		name     string
		sent     bool
		buffered int
		want     int
	}{
		{"empty", false, 0, SniffLen},
		{"some", false, 100, SniffLen - 100},
		{"one short", false, SniffLen - 1, 1},
		{"enough", false, SniffLen, 0},
		{"more than enough", false, 4096, 0},
		{"sent", true, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st State
			st.Reset(false, false)
			st.Sent = tt.sent
			if got := st.SniffWant(tt.buffered); got != tt.want {
				t.Errorf("SniffWant(%d) = %d, want %d", tt.buffered, got, tt.want)
			}
		})
	}
}

func TestSniffedType(t *testing.T) {
	html := "<!DOCTYPE html><title>x</title>"
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"html", 200, html, "text/html; charset=utf-8"},
		{"text", 200, "hello", "text/plain; charset=utf-8"},
		{"binary", 200, "\x00\x01\x02", "application/octet-stream"},
		{"empty body", 200, "", ""},
		{"no content", 204, html, ""},
		// Only the first SniffLen bytes count: HTML after them is not seen.
		{"past sniff length", 200, strings.Repeat("a", SniffLen) + html, "text/plain; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWriter(false, false, nil)
			w.WriteHeader(tt.status)
			if got := w.st.SniffedType([]byte(tt.body)); got != tt.want {
				t.Errorf("SniffedType = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAddLength(t *testing.T) {
	tests := []struct {
		name    string
		head    bool
		status  int
		written int
		final   bool
		want    bool
	}{
		{"final", false, 200, 10, true, true},
		{"final empty", false, 200, 0, true, true},
		{"not final", false, 200, 10, false, false},
		{"no content", false, 204, 0, true, false},
		{"head with body", true, 200, 10, true, true},
		{"head without body", true, 200, 0, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := started(tt.head, tt.status, "")
			if err := w.write(tt.written); tt.written > 0 && err != nil {
				t.Fatal(err)
			}
			if got := w.st.AddLength(tt.final); got != tt.want {
				t.Errorf("AddLength(%v) = %v, want %v", tt.final, got, tt.want)
			}
		})
	}
}

func TestShort(t *testing.T) {
	tests := []struct {
		name    string
		head    bool
		cl      string
		written int
		want    bool
	}{
		{"short", false, "10", 9, true},
		{"whole", false, "10", 10, false},
		{"none declared", false, "", 0, false},
		{"head", true, "10", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := started(tt.head, 200, tt.cl)
			if err := w.write(tt.written); err != nil {
				t.Fatal(err)
			}
			if got := w.st.Short(); got != tt.want {
				t.Errorf("Short() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFail(t *testing.T) {
	tests := []struct {
		name string
		head bool
		code int
		body string
	}{
		{"internal server error", false, 500, "Internal Server Error\n"},
		{"service unavailable", false, 503, "Service Unavailable\n"},
		{"head", true, 500, ""},
		{"no content", false, 204, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Content-Length": {"3"}, "Content-Encoding": {"gzip"}, "X-Other": {"1"}}
			w := newWriter(tt.head, false, h)
			w.WriteHeader(200)
			if err := w.write(2); err != nil {
				t.Fatal(err)
			}
			w.st.Fail(h)
			if w.st.WroteHeader() || w.st.Written != 0 || w.st.Declared != -1 || w.st.Head != tt.head {
				t.Errorf("after Fail: WroteHeader %v, Written %d, Declared %d, Head %v",
					w.st.WroteHeader(), w.st.Written, w.st.Declared, w.st.Head)
			}
			want := http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "X-Content-Type-Options": {"nosniff"}}
			if fmt.Sprint(h) != fmt.Sprint(want) {
				t.Errorf("header %v, want %v", h, want)
			}
			if !w.WriteHeader(tt.code) || len(w.logs) != 0 {
				t.Fatalf("WriteHeader(%d) after Fail did not take effect (logged %q)", tt.code, w.logs)
			}
			buf := w.st.FailBody([]byte{})
			if string(buf) != tt.body || w.st.Written != int64(len(tt.body)) {
				t.Errorf("FailBody = %q with Written %d, want %q", buf, w.st.Written, tt.body)
			}
		})
	}
}

func TestClose(t *testing.T) {
	w := newWriter(false, false, nil)
	w.st.Close()
	if !w.st.Closed() {
		t.Fatal("Closed() = false after Close")
	}
	if w.WriteHeader(200) || w.st.WroteHeader() || len(w.logs) != 0 {
		t.Errorf("WriteHeader on a closed State took effect (logged %q)", w.logs)
	}
	w.st.Reset(false, false)
	if w.st.Closed() {
		t.Error("Closed() = true after Reset")
	}
}
