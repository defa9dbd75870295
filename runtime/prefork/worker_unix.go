//go:build unix

package prefork

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Worker serves the listening socket inherited from Master with the server
// newServer returns, until the master tells it to stop, ctx is done, or it
// has served cfg.MaxRequests requests; then it stops accepting, lets the
// requests in flight finish (however long they take: the server's own
// timeouts bound them) and returns nil.
//
// newServer is called once, with wrap: the server's handler must be wrap
// applied to the application's handler, as in
//
//	func(wrap func(http.Handler) http.Handler) prefork.Server {
//		return &http.Server{Handler: wrap(app)}
//	}
//
// wrap counts requests for MaxRequests and tells the master when the worker
// is busy. Worker returns an error, without serving, if this process is not a
// worker or newServer never called wrap, and returns the server's error if it
// stops serving on its own.
func Worker(ctx context.Context, newServer func(wrap func(http.Handler) http.Handler) Server, cfg Config) error {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return err
	}
	if cfg.MaxRSS > 0 {
		if _, err := residentBytes(); err != nil {
			return fmt.Errorf("prefork: MaxRSS %d: %w", cfg.MaxRSS, err)
		}
	}
	if v := os.Getenv(workerEnv); v != workerVersion {
		if v == "" {
			return fmt.Errorf("prefork: Worker called in a process that Master did not start (%s is not set)", workerEnv)
		}
		return fmt.Errorf("prefork: %s=%q, want %q: master and worker are different builds", workerEnv, v, workerVersion)
	}
	// The inherited descriptors must not leak into programs the application
	// runs: a grandchild holding the status pipe would hide this worker's exit.
	for _, fd := range []int{listenerFD, statusFD, controlFD} {
		syscall.CloseOnExec(fd)
	}
	statusFile := os.NewFile(statusFD, "prefork-status")
	defer statusFile.Close()
	control := os.NewFile(controlFD, "prefork-control")
	defer control.Close()
	lf := os.NewFile(listenerFD, "prefork-listener")
	inherited, err := net.FileListener(lf)
	lf.Close()
	if err != nil {
		return fmt.Errorf("prefork: inherited listener on fd %d: %w", listenerFD, err)
	}
	l := newDrainListener(inherited)

	maxRequests := workerMaxRequests(cfg, rand.IntN)
	c := newCounter(maxRequests, statusFile)
	c.counters = cfg.Counters
	c.metrics = cfg.Metrics
	// The request that reaches MaxRequests stops this worker accepting before
	// its handler runs. Left to the goroutine that wakes on c.limit, the stop
	// could come after the client had its response and connected again, and
	// this worker would take one request too many.
	c.atLimit = l.stop
	wrapped := false
	srv := newServer(func(h http.Handler) http.Handler {
		wrapped = true
		return c.wrap(h)
	})
	switch {
	case srv == nil:
		l.Close()
		return errors.New("prefork: newServer returned nil, want a Server")
	case !wrapped:
		l.Close()
		return errors.New("prefork: newServer did not call wrap, want its handler wrapped so requests are counted")
	}

	reported := make(chan struct{})
	go func() {
		c.report()
		close(reported)
	}()
	c.send("ready")

	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	stopped := make(chan struct{})
	go func() {
		// Any byte, or end-of-file when the master closes its end or dies.
		var b [1]byte
		control.Read(b[:])
		close(stopped)
	}()

	tooBig := make(chan int64, 1)
	if cfg.MaxRSS > 0 {
		go watchRSS(cfg.MaxRSS, time.Second, stopped, tooBig)
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case <-stopped:
	case <-c.limit:
	case rss := <-tooBig:
		cfg.ErrorLog.Printf("prefork: worker pid %d: resident memory %d bytes exceeds MaxRSS %d; recycling it after its %d requests in flight", os.Getpid(), rss, cfg.MaxRSS, c.inflight.Load())
	case serveErr = <-served:
		served <- serveErr
	}
	c.drain()
	// Connections that stay open between requests would keep bringing
	// requests to a worker that wants to go; servers that can say so
	// (*http.Server can) close each after its current request instead.
	if ka, ok := srv.(interface{ SetKeepAlivesEnabled(bool) }); ok {
		ka.SetKeepAlivesEnabled(false)
	}
	l.stopAndSettle()
	shutdownErr := srv.Shutdown(context.Background())
	if err := <-served; serveErr == nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		serveErr = err
	}
	c.close()
	<-reported
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("prefork: worker serving %v: %w", l.Addr(), serveErr)
	}
	if shutdownErr != nil {
		return fmt.Errorf("prefork: worker shutting down: %w", shutdownErr)
	}
	return nil
}

// reportEvery paces a worker's load lines: often enough for the master to
// see saturation within a fraction of a second, rarely enough that the
// master's CPU does not grow with the request rate.
const reportEvery = 100 * time.Millisecond

// counter tracks a worker's requests. Handlers only touch atomics; the
// reporter goroutine sends the master the latest numbers every reportEvery
// when they changed, so a request costs no system call and wakes nothing.
type counter struct {
	maxRequests int64
	inflight    atomic.Int64
	served      atomic.Int64
	peak        atomic.Int64  // most in flight since the last report
	limit       chan struct{} // closed when served reaches maxRequests
	atLimit     func()        // if non-nil, called (before limit closes) by the request that reaches maxRequests
	draining    atomic.Bool
	counters    func() (slow, timeouts int64)
	metrics     func() []int64
	done        chan struct{}
	closeOnce   sync.Once

	out     *os.File
	writeMu sync.Mutex
}

func newCounter(maxRequests int, out *os.File) *counter {
	return &counter{
		maxRequests: int64(maxRequests),
		limit:       make(chan struct{}),
		done:        make(chan struct{}),
		out:         out,
	}
}

func (c *counter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := c.served.Add(1)
		in := c.inflight.Add(1)
		for p := c.peak.Load(); in > p && !c.peak.CompareAndSwap(p, in); p = c.peak.Load() {
		}
		defer c.inflight.Add(-1)
		if n == c.maxRequests {
			if c.atLimit != nil {
				c.atLimit()
			}
			close(c.limit)
		}
		h.ServeHTTP(w, r)
	})
}

// send writes one status line. Errors are ignored: they mean the master is
// gone, which the control pipe reports too.
func (c *counter) send(line string) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.out.Write([]byte(line + "\n"))
}

// report sends a load line every reportEvery when the numbers changed, and
// once more at close.
func (c *counter) report() {
	var last, lastCounts status
	flush := func() {
		if c.metrics != nil {
			cs := status{kind: statusCounts}
			for i, n := range c.metrics() {
				if i < MaxCounters {
					cs.counts[i] = int(n)
					cs.ncounts = i + 1
				}
			}
			if cs.ncounts > 0 && cs != lastCounts {
				lastCounts = cs
				c.send(cs.String())
			}
		}
		// The peak is taken first and in flight then counted into it, so
		// in flight <= peak; served is read last, so it is never less than
		// the requests it counted.
		peak := c.peak.Swap(0)
		in := c.inflight.Load()
		peak = max(peak, in)
		s := status{kind: statusLoad, inflight: int(in), peak: int(peak), served: int(c.served.Load())}
		if c.counters != nil {
			slow, timeouts := c.counters()
			s.slow, s.timeouts = int(slow), int(timeouts)
		}
		if s == last {
			return
		}
		last = s
		c.send(s.String())
	}
	t := time.NewTicker(reportEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			flush()
		case <-c.done:
			flush()
			return
		}
	}
}

func (c *counter) drain() {
	if !c.draining.Swap(true) {
		c.send("drain " + strconv.FormatInt(c.served.Load(), 10))
	}
}

func (c *counter) close() { c.closeOnce.Do(func() { close(c.done) }) }

// watchRSS sends this process's resident memory on tooBig, once, when it
// passes limit, checking every interval until stop closes.
func watchRSS(limit int64, every time.Duration, stop <-chan struct{}, tooBig chan<- int64) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if rss, err := residentBytes(); err == nil && rss > limit {
			tooBig <- rss
			return
		}
	}
}

// residentBytes reads this process's resident set size from
// /proc/self/statm (its second field, in pages).
func residentBytes() (int64, error) {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, fmt.Errorf("reading resident memory (Linux's /proc/self/statm): %w", err)
	}
	return parseStatm(string(data), os.Getpagesize())
}
