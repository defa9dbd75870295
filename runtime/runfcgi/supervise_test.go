package runfcgi

import (
	"bytes"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log destination safe for the supervisor's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitLog waits until the log holds want; the limit only turns a hang into
// a failure.
func waitLog(t *testing.T, b *syncBuffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(b.String(), want); {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q; it has:\n%s", want, b.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSupervisorOffIsTheHandler(t *testing.T) {
	h := http.NewServeMux()
	s := &supervisor{}
	if got := s.wrap(h); got != http.Handler(h) {
		t.Error("wrap without timeout or slowlog returned another handler; the default path must cost nothing")
	}
}

func TestTimeout(t *testing.T) {
	tests := []struct {
		name       string
		handler    func(release <-chan struct{}) http.HandlerFunc
		wantStatus int
		wantBody   string
		wantLog    string
	}{
		{
			name: "cancellation honoured: 504",
			handler: func(<-chan struct{}) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					<-r.Context().Done()
					w.Write([]byte("too late"))
				}
			},
			wantStatus: 504, wantBody: "504 Gateway Timeout", wantLog: "GET /wait?x=1 still running; answered 504 and its context cancelled",
		},
		{
			name: "response begun: cut short",
			handler: func(release <-chan struct{}) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(201)
					w.Write([]byte("partial"))
					<-release
				}
			},
			wantStatus: 201, wantBody: "partial", wantLog: "its response already begun, cut short",
		},
		{
			name: "in time: untouched",
			handler: func(<-chan struct{}) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("X-A", "b")
					w.Write([]byte("ok"))
				}
			},
			wantStatus: 200, wantBody: "ok",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			release := make(chan struct{})
			defer close(release)
			s := &supervisor{timeout: 50 * time.Millisecond, log: log.New(&logs, "", 0)}
			rec := httptest.NewRecorder()
			s.wrap(tt.handler(release)).ServeHTTP(rec, httptest.NewRequest("GET", "/wait?x=1", nil))
			if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("answered %d %q, want %d with %q", rec.Code, rec.Body.String(), tt.wantStatus, tt.wantBody)
			}
			if tt.wantLog == "" {
				if s.timeouts.Load() != 0 || logs.String() != "" {
					t.Errorf("a request in time was counted or logged: %d, %q", s.timeouts.Load(), logs.String())
				}
				if rec.Header().Get("X-A") != "b" {
					t.Errorf("the handler's header was lost: %v", rec.Header())
				}
				return
			}
			if !strings.Contains(logs.String(), tt.wantLog) || s.timeouts.Load() != 1 {
				t.Errorf("log %q (timeouts %d), want it to contain %q once", logs.String(), s.timeouts.Load(), tt.wantLog)
			}
		})
	}
}

// A handler that ignores its cancellation: after a further timeout the
// stuck hook (a prefork worker's drain) runs, once, and it is logged.
func TestTimeoutStuckHandler(t *testing.T) {
	var logs syncBuffer
	release := make(chan struct{})
	defer close(release)
	stuck := make(chan struct{}, 2)
	s := &supervisor{timeout: 30 * time.Millisecond, log: log.New(&logs, "", 0), stuck: func() { stuck <- struct{}{} }}
	h := s.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // ignores r.Context()
		w.Write([]byte("never seen"))
	}))
	for range 2 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/stuck", strings.NewReader("body")))
		if rec.Code != 504 {
			t.Fatalf("answered %d, want 504", rec.Code)
		}
	}
	<-stuck
	waitLog(t, &logs, "POST /stuck ignored its cancellation")
	select {
	case <-stuck:
		t.Error("the stuck hook ran twice; once drains the worker")
	case <-time.After(100 * time.Millisecond):
	}
}

func TestTimeoutBodyAfterExpiry(t *testing.T) {
	b := &timeoutBody{r: io.NopCloser(strings.NewReader("abc"))}
	b.expire()
	if _, err := b.Read(make([]byte, 3)); !errors.Is(err, http.ErrHandlerTimeout) {
		t.Errorf("Read after the timeout = %v, want http.ErrHandlerTimeout", err)
	}
}

func TestTimeoutPanicReachesTheServer(t *testing.T) {
	s := &supervisor{timeout: time.Minute, log: log.New(io.Discard, "", 0)}
	h := s.wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	defer func() {
		p := recover()
		if msg, _ := p.(string); !strings.HasPrefix(msg, "boom\n") || !strings.Contains(msg, "TestTimeoutPanicReachesTheServer") {
			t.Errorf("recovered %v, want the handler's panic with its stack", p)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

// slowlog logs the handler's own stack, with the request line, once.
func TestSlowLog(t *testing.T) {
	for _, timeout := range []time.Duration{0, time.Minute} {
		t.Run("timeout "+timeout.String(), func(t *testing.T) {
			var logs syncBuffer
			release := make(chan struct{})
			s := &supervisor{slowlog: 20 * time.Millisecond, timeout: timeout, log: log.New(&logs, "", 0)}
			done := make(chan struct{})
			go func() {
				defer close(done)
				s.wrap(http.HandlerFunc(slowHandlerForStack(release))).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/report", nil))
			}()
			waitLog(t, &logs, "slowHandlerForStack")
			close(release)
			<-done
			out := logs.String()
			if !strings.Contains(out, "slowlog=20ms: GET /report still running; its stack:\ngoroutine ") || strings.Count(out, "its stack") != 1 || s.slow.Load() != 1 {
				t.Errorf("slow log (count %d):\n%s", s.slow.Load(), out)
			}
		})
	}
}

func slowHandlerForStack(release <-chan struct{}) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) { <-release }
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"1048576", 1 << 20, ""},
		{"512M", 512 << 20, ""},
		{"512m", 512 << 20, ""},
		{"1G", 1 << 30, ""},
		{"64KiB", 64 << 10, ""},
		{"2GiB", 2 << 30, ""},
		{"", 0, "want a positive whole number"},
		{"M", 0, "want a positive whole number"},
		{"0", 0, "want a positive whole number"},
		{"-1M", 0, "want a positive whole number"},
		{"+1M", 0, "want a positive whole number"},
		{"1.5G", 0, "want a positive whole number"},
		{"1MB", 0, `unit "mb"`},
		{"1T", 0, "want a positive whole number"},
		{"9999999999G", 0, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSize(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseSize(%q) = %d, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func FuzzParseSize(f *testing.F) {
	for _, seed := range []string{"512M", "1G", "64KiB", "1048576", "", "-1", "1MB", "9999999999G"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := parseSize(s); err == nil && n <= 0 {
			t.Fatalf("parseSize(%q) = %d without an error", s, n)
		}
	})
}
