package runfcgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// admin serves admin=ADDR: plain HTTP for probes and scrapers, which cannot
// speak FastCGI. It runs in the process that outlives workers: the threaded
// process, or the prefork master.
type admin struct {
	srv *http.Server
	l   net.Listener
}

// startAdmin listens on addr and serves /healthz, /readyz and /metrics from
// o until stop.
func startAdmin(addr string, o *ops, logf func(string, ...any)) (*admin, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("runfcgi: admin=%s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		plain(w, http.StatusOK, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if o.draining.Load() {
			plain(w, http.StatusServiceUnavailable, "draining\n")
			return
		}
		if v := o.current(); v.Ready == 0 {
			plain(w, http.StatusServiceUnavailable, "no worker ready\n")
			return
		}
		plain(w, http.StatusOK, "ready\n")
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", openMetricsType)
		io.WriteString(w, adminMetrics(o.current()))
	})
	a := &admin{l: l, srv: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    8 << 10,
	}}
	go func() {
		if err := a.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logf("runfcgi: admin=%s: %v", addr, err)
		}
	}()
	return a, nil
}

func (a *admin) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a.srv.Shutdown(ctx)
}

func plain(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	io.WriteString(w, body)
}

// openMetricsType is the Content-Type of the OpenMetrics text format, which
// /metrics and the status page's ?openmetrics both answer in.
const openMetricsType = "application/openmetrics-text; version=1.0.0; charset=utf-8"

// adminMetrics is /metrics in the OpenMetrics text format.
func adminMetrics(v poolView) string {
	var b strings.Builder
	family := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	family("appgen_requests", "counter", "Requests started.")
	fmt.Fprintf(&b, "appgen_requests_total %d\n", v.Accepted)
	family("appgen_requests_in_flight", "gauge", "Requests being handled.")
	fmt.Fprintf(&b, "appgen_requests_in_flight %d\n", v.InFlight)
	family("appgen_request_timeouts", "counter", "Requests answered 504 by timeout=.")
	fmt.Fprintf(&b, "appgen_request_timeouts_total %d\n", v.Timeouts)
	family("appgen_slow_requests", "counter", "Requests that ran longer than slowlog=.")
	fmt.Fprintf(&b, "appgen_slow_requests_total %d\n", v.Slow)
	family("appgen_workers", "gauge", "Workers (prefork processes, threaded pool goroutines) by state.")
	fmt.Fprintf(&b, "appgen_workers{model=%q,state=\"idle\"} %d\nappgen_workers{model=%q,state=\"active\"} %d\n", v.Manager, v.Idle, v.Manager, v.Active)
	family("appgen_worker_recycles", "counter", "Prefork workers that stopped as asked (maxrequests, maxrss, a stuck handler, SIGHUP, surplus).")
	fmt.Fprintf(&b, "appgen_worker_recycles_total %d\n", v.Recycled)
	family("appgen_worker_crashes", "counter", "Prefork workers that died unasked.")
	fmt.Fprintf(&b, "appgen_worker_crashes_total %d\n", v.Crashed)
	family("appgen_max_children_reached", "counter", "Times every worker was busy (threaded: requests refused at maxchildren).")
	fmt.Fprintf(&b, "appgen_max_children_reached_total %d\n", v.MaxChildrenReached)
	family("appgen_listen_queue", "gauge", "Connections waiting to be accepted (Linux TCP only).")
	fmt.Fprintf(&b, "appgen_listen_queue %d\n", v.ListenQueue)
	writeCountMetrics(&b, v.Counts)
	family("appgen_start_time_seconds", "gauge", "When the pool started, in seconds since the epoch.")
	fmt.Fprintf(&b, "appgen_start_time_seconds %d\n", v.Start.Unix())
	b.WriteString("# EOF\n")
	return b.String()
}
