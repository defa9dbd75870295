package prefork

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"runtime"
	"time"
)

// Server is what a worker serves connections with: *http.Server and the
// protocol servers of the runtime (fastcgi, scgi, ajp) all have this shape.
type Server interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
}

// DefaultConcurrency is Config.Concurrency's default: the runtime's protocol
// servers' default limit of requests in flight (their MaxRequests).
const DefaultConcurrency = 1024

// Config sets the limits of a prefork master and its workers. Master and
// Worker should be given the same Config (a re-executed worker normally parses
// the same arguments as its master).
type Config struct {
	// MinSpare is how many idle workers the master keeps ready; it starts
	// more when fewer are idle. A worker is idle while it can take more
	// requests (fewer than Concurrency in flight), not only when it has
	// none: a Go worker serves many at once. 0 means one per core
	// (runtime.GOMAXPROCS), at most MaxChildren: under steady load the
	// workers the master starts first are all it keeps.
	MinSpare int
	// MaxSpare is how many idle workers the master tolerates; beyond it it
	// stops one idle worker a second. 0 means one per core, at most
	// MaxChildren, raised to MinSpare if that is larger.
	MaxSpare int
	// MaxChildren is how many workers may accept connections at once. Workers
	// draining their last requests are not counted. 0 means two per core,
	// raised to MinSpare and MaxSpare if they are larger.
	MaxChildren int
	// Concurrency is how many requests one worker has in flight when it is
	// busy (saturated): the master starts another worker only when fewer
	// than MinSpare can take more. Give the worker's server the same limit
	// (the protocol servers' MaxRequests), so that it refuses beyond it.
	// 1 is flup's model, one request per process. 0 means
	// DefaultConcurrency (1024).
	Concurrency int
	// MaxRequests is how many requests a worker serves before it stops
	// accepting, finishes those in flight and exits to be replaced; requests
	// that arrive while it is stopping are still served. 0 means unlimited.
	MaxRequests int
	// MaxRequestsJitter adds a random 0 to MaxRequestsJitter to each
	// worker's MaxRequests (gunicorn's max_requests_jitter), so that workers
	// started together do not all recycle at the same moment. Ignored when
	// MaxRequests is 0. 0 means none.
	MaxRequestsJitter int
	// MaxRSS is the resident memory, in bytes, beyond which a worker stops
	// accepting, finishes its requests in flight and exits to be replaced
	// (uWSGI's reload-on-rss). Checked every second; Linux only (it reads
	// /proc/self/statm): elsewhere Worker refuses a non-zero MaxRSS. 0 means
	// no limit.
	MaxRSS int64
	// ErrorLog receives one line per worker crash, restart and failure to
	// start. nil means log.Default().
	ErrorLog *log.Logger
	// Counters, if non-nil, is called by a worker's reporter to include the
	// application's own counts (runfcgi's slow and timed-out requests) in
	// what the master knows. nil means both are 0.
	Counters func() (slow, timeouts int64)
	// Metrics, if non-nil, is called by a worker's reporter for up to
	// MaxCounters counts of the application's own that only grow (runfcgi's
	// responses by status class and by duration); the master sums them over
	// every worker, those gone included, into Stats.Counts. nil means none.
	Metrics func() []int64
	// StatusFile makes the master keep a Status snapshot where its workers
	// read it with ReadStatus (runfcgi's status= page is answered by a
	// worker). Default false: no snapshot is written.
	StatusFile bool
	// Ready, if non-nil, is called by the master when a generation of
	// workers serves: MinSpare of them are ready. Generation 0 is the first,
	// started by Master; each SIGHUP starts the next. runfcgi tells systemd
	// (READY=1). It is called from the goroutine running Master and must
	// not block. nil means no one is told.
	Ready func(generation int)
	// Reloading, if non-nil, is called by the master on SIGHUP, as it
	// starts the new generation, from the goroutine running Master; it must
	// not block. nil means no one is told.
	Reloading func(generation int)
	// ReloadFailed, if non-nil, is called by the master, once per
	// generation, when a worker of a generation that SIGHUP started exits
	// before it is ready, while the previous generation goes on serving
	// (the master keeps trying, spaced out). It must not block. nil means
	// no one is told.
	ReloadFailed func(generation int, err error)
	// Observe, if non-nil, is called by the master with a snapshot of its
	// workers after every change, from the goroutine running Master: it must
	// not block. nil means no one is told.
	Observe func(Stats)
}

// Stats is a snapshot of a master's workers, for Config.Observe.
type Stats struct {
	Generation int // SIGHUP restarts so far; workers started after the last one are current
	Starting   int // current workers started but not yet ready
	Idle       int // current workers ready and able to take more requests (fewer than Concurrency in flight)
	Busy       int // current workers that had Concurrency requests in flight at their last report
	Retiring   int // earlier generations, still accepting until enough current workers are ready
	Stopping   int // workers no longer accepting, finishing their requests before they exit
	Started    int // workers started since Master was called
	Crashed    int // workers that exited without being asked to, killed or with a non-zero status
	InFlight   int // requests in flight in every worker, at their last reports
	Requests   int // requests started by every worker since Master was called, at their last reports
	Active     int // current workers with at least one request in flight (php-fpm's "active processes")
	Slow       int // Config.Counters' slow requests, summed over every worker since Master was called
	Timeouts   int // Config.Counters' timed-out requests, likewise
	Recycled   int // workers that stopped as asked (MaxRequests, MaxRSS, a stuck handler, retiring, SIGHUP)
	MaxActive  int // the most Active seen at once
	// MaxChildrenReached counts the times the master wanted another worker
	// but MaxChildren were already accepting.
	MaxChildrenReached int
	// ListenQueue is how many connections wait to be accepted, as the
	// master last looked (see ListenQueue); MaxListenQueue the most it saw,
	// ListenQueueLen the queue's capacity. All 0 where ListenQueue cannot tell.
	ListenQueue, MaxListenQueue, ListenQueueLen int
	// Counts are Config.Metrics summed over every worker since Master was
	// called.
	Counts [MaxCounters]int64
}

// MaxCounters is how many counts Config.Metrics may report.
const MaxCounters = 24

// Status is what the master tells its workers about the pool when
// Config.StatusFile is set: Stats, when it started, and each worker.
type Status struct {
	Start   time.Time
	Stats   Stats
	Workers []WorkerStatus
}

// WorkerStatus is one worker in a Status.
type WorkerStatus struct {
	PID      int
	State    string // starting, idle, busy (saturated), retiring or stopping
	Start    time.Time
	InFlight int // at its last report
	Requests int // started since it started, at its last report
}

// ErrNotSupported is returned by Master and Worker where processes cannot
// share a listening socket the way this package needs (everything but Unix).
var ErrNotSupported = errors.New("prefork: not supported on this operating system, use the threaded model")

// workerEnv marks a process started by Master as its worker. The value is the
// protocol version, so a worker from a different build refuses rather than
// misreading its file descriptors.
const (
	workerEnv     = "APPGEN_PREFORK_WORKER"
	workerVersion = "2"
)

// The file descriptors a worker inherits, in the order of exec.Cmd.ExtraFiles.
const (
	listenerFD = 3 // the shared listening socket
	statusFD   = 4 // worker to master: status lines
	controlFD  = 5 // master to worker: closed (or any byte) means stop
)

// IsWorker reports whether this process was started by Master as a worker.
func IsWorker() bool {
	return os.Getenv(workerEnv) != ""
}

// WithDefaults returns cfg with its zero fields set to their defaults, as
// Master and Worker apply them, or an error naming the first value that makes
// no sense.
func (cfg Config) WithDefaults() (Config, error) {
	for _, f := range []struct {
		name  string
		value int
	}{
		{"MinSpare", cfg.MinSpare}, {"MaxSpare", cfg.MaxSpare},
		{"MaxChildren", cfg.MaxChildren}, {"MaxRequests", cfg.MaxRequests},
		{"Concurrency", cfg.Concurrency}, {"MaxRequestsJitter", cfg.MaxRequestsJitter},
	} {
		if f.value < 0 {
			return cfg, fmt.Errorf("prefork: %s %d is negative, want 0 (the default) or more", f.name, f.value)
		}
	}
	// A Go worker uses every core, so more workers than cores add memory
	// and scheduling, not throughput; two per core leave room to replace
	// saturated or recycling ones.
	cores := runtime.GOMAXPROCS(0)
	if cfg.MaxChildren == 0 {
		cfg.MaxChildren = max(2*cores, cfg.MinSpare, cfg.MaxSpare)
	}
	if cfg.MaxRSS < 0 {
		return cfg, fmt.Errorf("prefork: MaxRSS %d is negative, want 0 (no limit) or more", cfg.MaxRSS)
	}
	if cfg.MinSpare == 0 {
		cfg.MinSpare = min(cores, cfg.MaxChildren)
	}
	if cfg.MaxSpare == 0 {
		cfg.MaxSpare = max(cfg.MinSpare, min(cores, cfg.MaxChildren))
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.MinSpare > cfg.MaxSpare {
		return cfg, fmt.Errorf("prefork: MinSpare %d exceeds MaxSpare %d, want MinSpare <= MaxSpare", cfg.MinSpare, cfg.MaxSpare)
	}
	if cfg.MinSpare > cfg.MaxChildren {
		return cfg, fmt.Errorf("prefork: MinSpare %d exceeds MaxChildren %d, want MinSpare <= MaxChildren", cfg.MinSpare, cfg.MaxChildren)
	}
	if cfg.ErrorLog == nil {
		cfg.ErrorLog = log.Default()
	}
	return cfg, nil
}

// workerProcs shares cores among minSpare workers, at least one each.
func workerProcs(cores, minSpare int) int {
	return max(1, cores/max(1, minSpare))
}

// workerGOGC is the GOGC of each of minSpare workers: Go's default, 100, lets
// a heap grow to twice its live data (and to at least 4 MiB) before
// collecting, so n workers at 100 would hold n times one process's headroom
// on top of their live data. 100/n shares one process's headroom among them;
// the floor of 25 keeps the collector from running so often, with many
// workers, that it costs more CPU than it saves memory.
func workerGOGC(minSpare int) int {
	return max(25, 100/max(1, minSpare))
}

// workerMaxRequests is MaxRequests plus this worker's share of the jitter.
func workerMaxRequests(cfg Config, randN func(int) int) int {
	if cfg.MaxRequests == 0 || cfg.MaxRequestsJitter == 0 {
		return cfg.MaxRequests
	}
	return cfg.MaxRequests + randN(cfg.MaxRequestsJitter+1)
}
