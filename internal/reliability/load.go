package reliability

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LoadOptions is one bounded run of HTTP load.
type LoadOptions struct {
	// BaseURL is where the paths are appended ("http://127.0.0.1:8080"); required.
	BaseURL string
	// Paths are requested in turn by each connection; nil means []string{"/"}.
	Paths []string
	// Conns is how many requests are in flight at once, each on its own keep-alive connection;
	// 0 means 8.
	Conns int
	// Duration bounds the run; 0 means 5 s.
	Duration time.Duration
	// MaxRequests bounds the number of requests sent; 0 means 1,000,000.
	MaxRequests int64
	// RequestTimeout bounds one request; 0 means 10 s.
	RequestTimeout time.Duration
	// Body, when non-nil, is sent with every request as a POST; nil means GET requests
	// without a body.
	Body []byte
	// CountHeader names a response header whose values Report.ByHeader counts (the test
	// handler's PidHeader tells which backend answered); "" counts none.
	CountHeader string
}

// Report counts what a load run saw.
type Report struct {
	// Sent is the number of requests started; every one ends as a status or a socket error.
	Sent int64
	// Status counts responses by path and status code.
	Status map[string]map[int]int64
	// SocketErrors counts requests that got no HTTP response (refused, reset, timed out).
	SocketErrors int64
	// FirstErrors holds up to ten distinct socket errors, for the test log.
	FirstErrors []string
	// ByHeader counts responses by the value of LoadOptions.CountHeader (nil without one).
	ByHeader map[string]int64
	// Elapsed is how long the run took.
	Elapsed time.Duration
}

// Non2xx counts responses outside 2xx, over every path.
func (r Report) Non2xx() int64 {
	var n int64
	for _, m := range r.Status {
		for code, c := range m {
			if code < 200 || code > 299 {
				n += c
			}
		}
	}
	return n
}

// Count is the number of responses to path with status code.
func (r Report) Count(path string, code int) int64 { return r.Status[path][code] }

// String is the one-line summary every scenario logs.
func (r Report) String() string {
	var paths []string
	for p := range r.Status {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var b strings.Builder
	fmt.Fprintf(&b, "sent %d in %v (%.0f/s), non-2xx %d, socket errors %d", r.Sent, r.Elapsed.Round(time.Millisecond),
		float64(r.Sent)/max(r.Elapsed.Seconds(), 1e-9), r.Non2xx(), r.SocketErrors)
	for _, p := range paths {
		fmt.Fprintf(&b, "; %s %v", p, r.Status[p])
	}
	if len(r.FirstErrors) > 0 {
		fmt.Fprintf(&b, "; errors: %s", strings.Join(r.FirstErrors, " | "))
	}
	return b.String()
}

// Load sends requests until the duration passes, MaxRequests have been sent or ctx is done,
// whichever comes first, and counts the outcomes.
func Load(ctx context.Context, o LoadOptions) Report {
	if len(o.Paths) == 0 {
		o.Paths = []string{"/"}
	}
	if o.Conns == 0 {
		o.Conns = 8
	}
	if o.Duration == 0 {
		o.Duration = 5 * time.Second
	}
	if o.MaxRequests == 0 {
		o.MaxRequests = 1_000_000
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = 10 * time.Second
	}
	tr := &http.Transport{MaxIdleConnsPerHost: o.Conns, MaxConnsPerHost: o.Conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: o.RequestTimeout}
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()

	var (
		sent     atomic.Int64
		mu       sync.Mutex
		status   = map[string]map[int]int64{}
		byHeader map[string]int64
		sockErrs int64
		first    []string
		wg       sync.WaitGroup
	)
	if o.CountHeader != "" {
		byHeader = map[string]int64{}
	}
	method := http.MethodGet
	if o.Body != nil {
		method = http.MethodPost
	}
	record := func(path string, code int, header string, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			sockErrs++
			msg := err.Error()
			if len(first) < 10 && !contains(first, msg) {
				first = append(first, msg)
			}
			return
		}
		if status[path] == nil {
			status[path] = map[int]int64{}
		}
		status[path][code]++
		if byHeader != nil {
			byHeader[header]++
		}
	}
	start := time.Now()
	for i := range o.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := i; ctx.Err() == nil; j++ {
				if sent.Add(1) > o.MaxRequests {
					sent.Add(-1)
					return
				}
				path := o.Paths[j%len(o.Paths)]
				// The request is not tied to ctx: a run that ends lets the requests in flight
				// finish, so that the end of the run is never counted as a failure.
				var body io.Reader
				if o.Body != nil {
					body = bytes.NewReader(o.Body)
				}
				req, err := http.NewRequest(method, o.BaseURL+path, body)
				if err != nil {
					record(path, 0, "", err)
					continue
				}
				resp, err := client.Do(req)
				if err != nil {
					record(path, 0, "", err)
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				record(path, resp.StatusCode, resp.Header.Get(o.CountHeader), err)
			}
		}()
	}
	wg.Wait()
	return Report{Sent: sent.Load(), Status: status, SocketErrors: sockErrs, FirstErrors: first, ByHeader: byHeader, Elapsed: time.Since(start)}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
