package runfcgi

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/appgen/appgen/runtime/prefork"
	"github.com/appgen/appgen/runtime/workpool"
)

// poolView is what status=, ping= and admin= show: php-fpm's status fields
// for either process model.
type poolView struct {
	Pool, Manager                               string
	Start                                       time.Time
	Accepted                                    int64
	ListenQueue, MaxListenQueue, ListenQueueLen int
	Idle, Active, Total, MaxActive              int
	MaxChildrenReached                          int
	Slow, Timeouts                              int64
	InFlight                                    int
	Ready                                       int     // workers ready to serve (threaded: 1)
	Recycled, Crashed                           int     // prefork only
	Counts                                      []int64 // the recorder's layout (metrics.go)
	Procs                                       []procView
}

type procView struct {
	PID      int
	State    string
	Start    time.Time
	Requests int64
	InFlight int
}

// ops is the state behind status=, ping= and admin=.
type ops struct {
	accepted atomic.Int64
	inflight atomic.Int64
	start    time.Time
	// view returns the pool as it is now; set by the process model before
	// it serves (threaded: its pool; prefork worker: the master's file).
	view atomic.Pointer[func() poolView]
	// draining is set once the process stops accepting: /readyz says 503.
	draining atomic.Bool
	rec      recorder
}

func (o *ops) setView(f func() poolView) { o.view.Store(&f) }

func (o *ops) current() poolView {
	if f := o.view.Load(); f != nil {
		return (*f)()
	}
	return poolView{}
}

// poolName is php-fpm's pool: the program's name (the project's, mysite).
func poolName() string { return filepath.Base(os.Args[0]) }

// opsHandler answers ping= and status= before the site, and counts the
// site's requests for them. Without those keys and admin= it is h itself.
func (r *run) opsHandler(h http.Handler) http.Handler {
	if r.o.Status == "" && r.o.Ping == "" && r.o.Admin == "" {
		return h
	}
	counted := r.ops.count(h)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch {
		case r.o.Ping != "" && req.URL.Path == r.o.Ping:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			io.WriteString(w, "pong\n")
			return
		case r.o.Status != "" && req.URL.Path == r.o.Status:
			writeStatus(w, req, r.ops.current())
			return
		}
		counted.ServeHTTP(w, req)
	})
}

// count wraps h so that its requests are counted: accepted, in flight, and
// by status and duration.
func (o *ops) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		o.accepted.Add(1)
		o.inflight.Add(1)
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		returned := false
		defer func() {
			o.inflight.Add(-1)
			status := sw.status
			switch {
			case !returned && status == 0:
				status = http.StatusInternalServerError // it panicked: the server answers 500
			case status == 0:
				status = http.StatusOK
			}
			o.rec.record(status, time.Since(start))
		}()
		h.ServeHTTP(sw, req)
		returned = true
	})
}

// threadedView is the threaded model's pool: php-fpm's processes are the
// pool's goroutines; the one process is listed under ?full.
func (r *run) threadedView(pool *workpool.Pool, l net.Listener) func() poolView {
	var maxQueue atomic.Int64
	return func() poolView {
		s := pool.Stats()
		v := poolView{
			Pool: poolName(), Manager: "threaded", Start: r.ops.start,
			Accepted: r.ops.accepted.Load(), InFlight: int(r.ops.inflight.Load()),
			Idle: s.Idle, Active: s.Busy, Total: s.Idle + s.Busy, MaxActive: s.MaxBusy, MaxChildrenReached: s.Waited + s.Refused,
			Slow: r.sup.slow.Load(), Timeouts: r.sup.timeouts.Load(), Ready: 1,
			Counts: r.ops.rec.snapshot(),
		}
		if q, c, ok := prefork.ListenQueue(l); ok {
			for m := maxQueue.Load(); int64(q) > m && !maxQueue.CompareAndSwap(m, int64(q)); m = maxQueue.Load() {
			}
			v.ListenQueue, v.MaxListenQueue, v.ListenQueueLen = q, int(maxQueue.Load()), c
		}
		state := "Idle"
		if v.InFlight > 0 {
			state = "Running"
		}
		v.Procs = []procView{{PID: os.Getpid(), State: state, Start: r.ops.start, Requests: v.Accepted, InFlight: v.InFlight}}
		return v
	}
}

// preforkView turns the master's Stats (and, in a worker, its Status) into
// the same view.
func preforkView(start time.Time, s prefork.Stats, workers []prefork.WorkerStatus) poolView {
	v := poolView{
		Pool: poolName(), Manager: "prefork", Start: start, Accepted: int64(s.Requests), InFlight: s.InFlight,
		ListenQueue: s.ListenQueue, MaxListenQueue: s.MaxListenQueue, ListenQueueLen: s.ListenQueueLen,
		Active: s.Active, Total: s.Starting + s.Idle + s.Busy + s.Retiring, Ready: s.Idle + s.Busy + s.Retiring,
		MaxActive: s.MaxActive, MaxChildrenReached: s.MaxChildrenReached,
		Slow: int64(s.Slow), Timeouts: int64(s.Timeouts), Recycled: s.Recycled, Crashed: s.Crashed,
		Counts: s.Counts[:countLen],
	}
	v.Idle = max(0, v.Total-v.Active)
	for _, w := range workers {
		state := "Idle"
		switch {
		case w.State == "starting", w.State == "stopping":
			state = strings.ToUpper(w.State[:1]) + w.State[1:]
		case w.InFlight > 0:
			state = "Running"
		}
		v.Procs = append(v.Procs, procView{PID: w.PID, State: state, Start: w.Start, Requests: int64(w.Requests), InFlight: w.InFlight})
	}
	return v
}

// workerView reads the pool from the master, for a prefork worker's
// status page.
func workerView() poolView {
	st, err := prefork.ReadStatus()
	if err != nil {
		return poolView{Pool: poolName(), Manager: "prefork"}
	}
	return preforkView(st.Start, st.Stats, st.Workers)
}

// writeStatus answers status= as php-fpm does: text by default, ?json,
// ?openmetrics, and ?full for one entry per process.
func writeStatus(w http.ResponseWriter, req *http.Request, v poolView) {
	q := req.URL.Query()
	_, full := q["full"]
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	now := time.Now()
	switch {
	case q.Has("json"):
		h.Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(statusJSON(v, full, now))
	case q.Has("openmetrics"):
		h.Set("Content-Type", openMetricsType)
		io.WriteString(w, statusOpenMetrics(v, now))
	default:
		h.Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, statusText(v, full, now))
	}
}

const fpmTime = "02/Jan/2006:15:04:05 -0700"

func since(t, now time.Time) int64 { return int64(now.Sub(t) / time.Second) }

func statusText(v poolView, full bool, now time.Time) string {
	var b strings.Builder
	row := func(k string, val any) { fmt.Fprintf(&b, "%-21s %v\n", k+":", val) }
	row("pool", v.Pool)
	row("process manager", v.Manager)
	row("start time", v.Start.Format(fpmTime))
	row("start since", since(v.Start, now))
	row("accepted conn", v.Accepted)
	row("listen queue", v.ListenQueue)
	row("max listen queue", v.MaxListenQueue)
	row("listen queue len", v.ListenQueueLen)
	row("idle processes", v.Idle)
	row("active processes", v.Active)
	row("total processes", v.Total)
	row("max active processes", v.MaxActive)
	row("max children reached", v.MaxChildrenReached)
	row("slow requests", v.Slow)
	if full {
		for _, p := range v.Procs {
			b.WriteString("\n************************\n")
			row("pid", p.PID)
			row("state", p.State)
			row("start time", p.Start.Format(fpmTime))
			row("start since", since(p.Start, now))
			row("requests", p.Requests)
			row("requests in flight", p.InFlight)
		}
	}
	return b.String()
}

// statusJSON has php-fpm's keys, spaces included, so its exporters read it.
func statusJSON(v poolView, full bool, now time.Time) map[string]any {
	m := map[string]any{
		"pool": v.Pool, "process manager": v.Manager, "start time": v.Start.Unix(), "start since": since(v.Start, now),
		"accepted conn": v.Accepted, "listen queue": v.ListenQueue, "max listen queue": v.MaxListenQueue,
		"listen queue len": v.ListenQueueLen, "idle processes": v.Idle, "active processes": v.Active,
		"total processes": v.Total, "max active processes": v.MaxActive, "max children reached": v.MaxChildrenReached,
		"slow requests": v.Slow,
	}
	if full {
		procs := make([]map[string]any, 0, len(v.Procs))
		for _, p := range v.Procs {
			procs = append(procs, map[string]any{
				"pid": p.PID, "state": p.State, "start time": p.Start.Unix(), "start since": since(p.Start, now),
				"requests": p.Requests, "requests in flight": p.InFlight,
			})
		}
		m["processes"] = procs
	}
	return m
}

// statusOpenMetrics is php-fpm's ?openmetrics, with counters named as
// OpenMetrics requires (a _total sample).
func statusOpenMetrics(v poolView, now time.Time) string {
	var m metricsWriter
	m.metric("phpfpm_up", "gauge", fmt.Sprintf("Could pool %s using a %s PM be reached?", v.Pool, v.Manager), 1)
	m.metric("phpfpm_start_since", "gauge", "The number of seconds since the pool started.", since(v.Start, now))
	m.metric("phpfpm_accepted_connections", "counter", "The number of requests accepted by the pool.", v.Accepted)
	m.metric("phpfpm_listen_queue", "gauge", "The number of requests in the queue of pending connections.", v.ListenQueue)
	m.metric("phpfpm_max_listen_queue", "gauge", "The maximum number of requests in the queue of pending connections since the pool started.", v.MaxListenQueue)
	m.metric("phpfpm_listen_queue_length", "gauge", "The size of the socket queue of pending connections.", v.ListenQueueLen)
	m.metric("phpfpm_idle_processes", "gauge", "The number of idle processes.", v.Idle)
	m.metric("phpfpm_active_processes", "gauge", "The number of active processes.", v.Active)
	m.metric("phpfpm_total_processes", "gauge", "The number of idle + active processes.", v.Total)
	m.metric("phpfpm_max_active_processes", "gauge", "The maximum number of active processes since the pool started.", v.MaxActive)
	m.metric("phpfpm_max_children_reached", "counter", "The number of times the process limit has been reached.", v.MaxChildrenReached)
	m.metric("phpfpm_slow_requests", "counter", "The number of requests that exceeded slowlog.", v.Slow)
	return m.String()
}

// statusWriter records the status a handler answered with, for the counts
// by status class; Unwrap keeps http.ResponseController (Flush, deadlines)
// working through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	// 1xx responses other than 101 are interim: the final status is still to come.
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
