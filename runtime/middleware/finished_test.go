package middleware

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestRequestFinished(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		body     string
		handler  http.HandlerFunc
		status   int
		written  int64
		panicked bool
	}{
		{"body written", "GET", "", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") },
			200, 5, false},
		{"nothing written", "GET", "", func(http.ResponseWriter, *http.Request) {}, 200, 0, false},
		{"error status", "GET", "", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }, 503, 0, false},
		{"body never read nor closed", "POST", strings.Repeat("x", 1<<16),
			func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) }, 201, 0, false},
		{"panic before writing", "GET", "", func(http.ResponseWriter, *http.Request) { panic("boom") }, 0, 0, true},
		{"panic after writing", "GET", "", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "abc")
			panic("boom")
		}, 200, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []Finished
			h := RequestFinished(nil, func(f Finished) { calls = append(calls, f) })(tt.handler)
			r := httptest.NewRequest(tt.method, "/x", strings.NewReader(tt.body))
			var out any
			func() {
				defer func() { out = recover() }()
				h.ServeHTTP(httptest.NewRecorder(), r)
			}()
			if (out != nil) != tt.panicked {
				t.Errorf("panic out = %v, want a panic: %v", out, tt.panicked)
			}
			if len(calls) != 1 {
				t.Fatalf("hook called %d times, want once", len(calls))
			}
			f := calls[0]
			if f.Status != tt.status || f.Written != tt.written || f.Panicked != tt.panicked || f.Canceled {
				t.Errorf("Finished = status %d, written %d, panicked %v, canceled %v; want %d, %d, %v, false",
					f.Status, f.Written, f.Panicked, f.Canceled, tt.status, tt.written, tt.panicked)
			}
			if f.Request.URL.Path != "/x" {
				t.Errorf("Finished.Request path = %q, want /x", f.Request.URL.Path)
			}
		})
	}
}

func TestRequestFinishedHookOrder(t *testing.T) {
	l, buf := newLog()
	var order []string
	hook := func(name string) func(Finished) { return func(Finished) { order = append(order, name) } }
	h := RequestFinished(l, hook("global 1"), func(Finished) { panic("bad hook") }, hook("global 2"))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, name := range []string{"request 1", "request 2"} {
				if !OnFinish(r, hook(name)) {
					t.Errorf("OnFinish(%s) = false inside RequestFinished", name)
				}
			}
		}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	want := "request 2,request 1,global 1,global 2"
	if got := strings.Join(order, ","); got != want {
		t.Errorf("hooks ran as %s, want %s", got, want)
	}
	if !strings.Contains(buf.String(), "middleware: panic in request-finished hook for GET /: bad hook") {
		t.Errorf("log = %q, want the hook's panic logged", buf.String())
	}
}

func TestOnFinishRefused(t *testing.T) {
	t.Run("no RequestFinished", func(t *testing.T) {
		if OnFinish(httptest.NewRequest("GET", "/", nil), func(Finished) { t.Error("hook ran") }) {
			t.Error("OnFinish = true with no RequestFinished in the chain")
		}
	})
	t.Run("after the request finished", func(t *testing.T) {
		var kept *http.Request
		RequestFinished(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { kept = r })).
			ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		if OnFinish(kept, func(Finished) { t.Error("hook ran") }) {
			t.Error("OnFinish = true after the request finished")
		}
	})
}

// TestRequestFinishedClientGone has a real client give up while the handler waits on it.
func TestRequestFinishedClientGone(t *testing.T) {
	finished := make(chan Finished, 1)
	started := make(chan struct{})
	srv := httptest.NewServer(RequestFinished(nil, func(f Finished) { finished <- f })(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(started)
			<-r.Context().Done()
		})))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-started
	cancel()
	if err := <-errc; err == nil {
		t.Error("client request succeeded, want it canceled")
	}
	f := <-finished
	if !f.Canceled {
		t.Errorf("Finished.Canceled = false after the client went away")
	}
}

// TestRequestFinishedOncePerRequest counts hooks over many requests on a real server, some of
// them with bodies the handler never reads, some panicking under Recover.
func TestRequestFinishedOncePerRequest(t *testing.T) {
	const requests = 200
	var hooks, perRequest atomic.Int64
	l, _ := newLog()
	h := Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		OnFinish(r, func(Finished) { perRequest.Add(1) })
		if r.URL.Query().Get("panic") != "" {
			panic("boom")
		}
		w.WriteHeader(http.StatusAccepted)
	}), RequestFinished(l, func(Finished) { hooks.Add(1) }), Recover(l))
	srv := httptest.NewServer(h)
	defer srv.Close()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range requests {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			url := srv.URL + "/"
			if i%3 == 0 {
				url += "?panic=1"
			}
			resp, err := srv.Client().Post(url, "text/plain", strings.NewReader(strings.Repeat("b", i*100)))
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
	wg.Wait()
	srv.Close() // waits for every handler, and so every hook, to be done
	if hooks.Load() != requests || perRequest.Load() != requests {
		t.Errorf("hooks ran %d times and per-request hooks %d times, want %d each", hooks.Load(), perRequest.Load(), requests)
	}
}
