package runfcgi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// supervisor applies timeout= and slowlog= to every request, and counts
// what it did for the status page and /metrics.
type supervisor struct {
	timeout, slowlog time.Duration
	log              *log.Logger
	// stuck is called once when a handler still runs a further timeout
	// after its request was cancelled: a prefork worker then drains and is
	// replaced. nil: only logged (one threaded process cannot be replaced
	// without its other requests).
	stuck     func()
	stuckOnce sync.Once

	timeouts atomic.Int64 // requests answered 504 by timeout=
	slow     atomic.Int64 // requests that ran longer than slowlog=
}

// wrap returns h under supervision, or h itself when neither key is set:
// the default path costs nothing.
func (s *supervisor) wrap(h http.Handler) http.Handler {
	if s.timeout <= 0 && s.slowlog <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		line := r.Method + " " + r.RequestURI
		if s.timeout <= 0 {
			// slowlog alone: the handler stays on this goroutine.
			gid := goroutineID()
			t := time.AfterFunc(s.slowlog, func() { s.logSlow(line, gid) })
			defer t.Stop()
			pprof.Do(r.Context(), pprof.Labels("request", line), func(ctx context.Context) { h.ServeHTTP(w, r) })
			return
		}
		s.serveWithTimeout(h, w, r, line)
	})
}

// serveWithTimeout runs the handler on its own goroutine, so that the
// request can be answered when the handler does not return in time.
func (s *supervisor) serveWithTimeout(h http.Handler, w http.ResponseWriter, r *http.Request, line string) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	tw := &timeoutWriter{w: w, header: make(http.Header)}
	// The handler may outlive this call, and the server may reuse what it
	// handed us once we return: it gets copies, and a body that stops
	// reading at the timeout.
	r2 := r.WithContext(ctx)
	r2.Header = r.Header.Clone()
	u := *r.URL
	r2.URL = &u
	body := &timeoutBody{r: r.Body}
	if r.Body != nil && r.Body != http.NoBody {
		r2.Body = body
	}
	done := make(chan struct{})
	var gid atomic.Int64
	var panicked any
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panicked = p
					return
				}
				panicked = fmt.Sprintf("%v\n%s", p, debug.Stack())
			}
		}()
		gid.Store(goroutineID())
		pprof.Do(ctx, pprof.Labels("request", line), func(context.Context) { h.ServeHTTP(tw, r2) })
	}()
	var slowC <-chan time.Time
	if s.slowlog > 0 && s.slowlog < s.timeout {
		t := time.NewTimer(s.slowlog)
		defer t.Stop()
		slowC = t.C
	}
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	for {
		select {
		case <-done:
			if panicked != nil {
				// On the server's goroutine, which answers 500 and logs it.
				panic(panicked)
			}
			return
		case <-slowC:
			s.logSlow(line, gid.Load())
		case <-timer.C:
			answered := tw.expire()
			body.expire()
			cancel()
			s.timeouts.Add(1)
			what := "answered 504"
			if !answered {
				what = "its response already begun, cut short"
			}
			s.log.Printf("runfcgi: timeout=%v: %s still running; %s and its context cancelled", s.timeout, line, what)
			go s.watchStuck(line, done)
			return
		}
	}
}

// watchStuck waits a further timeout for a cancelled handler to return.
func (s *supervisor) watchStuck(line string, done <-chan struct{}) {
	t := time.NewTimer(s.timeout)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	if s.stuck == nil {
		s.log.Printf("runfcgi: timeout=%v: %s ignored its cancellation for %v more; its goroutine keeps running until it returns (method=prefork replaces such a worker)", s.timeout, line, s.timeout)
		return
	}
	s.stuckOnce.Do(func() {
		s.log.Printf("runfcgi: timeout=%v: %s ignored its cancellation for %v more; replacing this worker once its other requests finish", s.timeout, line, s.timeout)
		s.stuck()
	})
}

// logSlow logs the stack of goroutine gid, once per request.
func (s *supervisor) logSlow(line string, gid int64) {
	s.slow.Add(1)
	s.log.Printf("runfcgi: slowlog=%v: %s still running; its stack:\n%s", s.slowlog, line, goroutineStack(gid))
}

// goroutineID is the calling goroutine's id, from the first line of its
// stack ("goroutine 42 [running]:"). It costs a stack trace, so only a
// request under slowlog= pays it.
func goroutineID() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b, _ = bytes.CutPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		n, _ := strconv.ParseInt(string(b[:i]), 10, 64)
		return n
	}
	return 0
}

// goroutineStack returns the stack of goroutine gid from a dump of all of
// them, or a note that it has ended.
func goroutineStack(gid int64) string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	prefix := []byte("goroutine " + strconv.FormatInt(gid, 10) + " [")
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if bytes.HasPrefix(g, prefix) {
			return string(g)
		}
	}
	return "(goroutine " + strconv.FormatInt(gid, 10) + " has ended)"
}

// timeoutWriter lets a handler write until its request times out; after
// that its writes fail with http.ErrHandlerTimeout. The handler has its own
// header map, copied out when it writes the header, so that the 504 written
// at the timeout never shares a map with a handler still running.
type timeoutWriter struct {
	w      http.ResponseWriter
	header http.Header

	mu          sync.Mutex
	wroteHeader bool
	expired     bool
}

func (tw *timeoutWriter) Header() http.Header { return tw.header }

func (tw *timeoutWriter) WriteHeader(code int) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	tw.writeHeaderLocked(code)
}

func (tw *timeoutWriter) writeHeaderLocked(code int) {
	if tw.expired || tw.wroteHeader {
		return
	}
	if code >= 200 {
		tw.wroteHeader = true
	}
	dst := tw.w.Header()
	for k, v := range tw.header {
		dst[k] = v
	}
	tw.w.WriteHeader(code)
}

func (tw *timeoutWriter) Write(p []byte) (int, error) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.expired {
		return 0, http.ErrHandlerTimeout
	}
	if !tw.wroteHeader {
		tw.writeHeaderLocked(http.StatusOK)
	}
	return tw.w.Write(p)
}

func (tw *timeoutWriter) Flush() {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.expired {
		return
	}
	if !tw.wroteHeader {
		tw.writeHeaderLocked(http.StatusOK)
	}
	if f, ok := tw.w.(http.Flusher); ok {
		f.Flush()
	}
}

// expire ends the handler's access to the response, answering 504 when it
// had not begun one, and reports whether it did.
func (tw *timeoutWriter) expire() bool {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	tw.expired = true
	if tw.wroteHeader {
		return false
	}
	h := tw.w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	tw.w.WriteHeader(http.StatusGatewayTimeout)
	io.WriteString(tw.w, "504 Gateway Timeout: the request took too long\n")
	return true
}

// timeoutBody stops a timed-out handler from reading a body the server may
// reuse once the request is answered. It takes no lock: a read blocked on a
// slow client must not hold up the 504.
type timeoutBody struct {
	r       io.ReadCloser
	expired atomic.Bool
}

func (b *timeoutBody) Read(p []byte) (int, error) {
	if b.expired.Load() {
		return 0, http.ErrHandlerTimeout
	}
	return b.r.Read(p)
}

func (b *timeoutBody) Close() error {
	if b.expired.Load() {
		return nil
	}
	return b.r.Close()
}

func (b *timeoutBody) expire() { b.expired.Store(true) }
