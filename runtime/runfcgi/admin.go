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

// Admin is admin='s listener for an HTTP server runfcgi does not run
// (manage's runserver --admin): the same /healthz, /readyz and /metrics,
// with the server's requests counted by the handler Count wraps. /healthz
// answers 200 while the process runs, /readyz 200 until Drain, then 503,
// and /metrics has the requests, their responses and durations; its
// appgen_workers family lists the requests in flight as active, model
// "http", since net/http keeps no pool of workers.
type Admin struct {
	ops ops
	a   *admin
}

// ListenAdmin listens on addr (host:port, port 0 for a free one) and serves
// the admin paths until Close; an error names addr.
func ListenAdmin(addr string, logf func(string, ...any)) (*Admin, error) {
	ad := &Admin{}
	ad.ops.start = time.Now()
	ad.ops.setView(func() poolView {
		n := int(ad.ops.inflight.Load())
		return poolView{
			Pool: poolName(), Manager: "http", Start: ad.ops.start,
			Accepted: ad.ops.accepted.Load(), InFlight: n, Active: n, Total: n, Ready: 1,
			Counts: ad.ops.rec.snapshot(),
		}
	})
	a, err := startAdmin(addr, &ad.ops, logf)
	if err != nil {
		return nil, err
	}
	ad.a = a
	return ad, nil
}

// Addr is the address the admin listener listens on.
func (ad *Admin) Addr() net.Addr { return ad.a.l.Addr() }

// Count wraps h so that /metrics counts its requests, as runfcgi counts the
// site's.
func (ad *Admin) Count(h http.Handler) http.Handler { return ad.ops.count(h) }

// Drain makes /readyz answer 503 from now on, so a load balancer stops
// sending requests; /healthz still answers 200 while they drain, so a
// liveness probe does not kill the process meanwhile.
func (ad *Admin) Drain() { ad.ops.draining.Store(true) }

// Close stops the listener, letting its requests finish for up to 5 s.
func (ad *Admin) Close() { ad.a.close() }

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
	var m metricsWriter
	m.metric("appgen_requests", "counter", "Requests started.", v.Accepted)
	m.metric("appgen_requests_in_flight", "gauge", "Requests being handled.", v.InFlight)
	m.metric("appgen_request_timeouts", "counter", "Requests answered 504 by timeout=.", v.Timeouts)
	m.metric("appgen_slow_requests", "counter", "Requests that ran longer than slowlog=.", v.Slow)
	m.family("appgen_workers", "gauge", "Workers (prefork processes, threaded pool goroutines) by state.")
	m.sample("", v.Idle, "model", v.Manager, "state", "idle")
	m.sample("", v.Active, "model", v.Manager, "state", "active")
	m.metric("appgen_worker_recycles", "counter", "Prefork workers that stopped as asked (maxrequests, maxrss, a stuck handler, SIGHUP, surplus).", v.Recycled)
	m.metric("appgen_worker_crashes", "counter", "Prefork workers that died unasked.", v.Crashed)
	m.metric("appgen_max_children_reached", "counter", "Times every worker was busy (threaded: requests refused at maxchildren).", v.MaxChildrenReached)
	m.metric("appgen_listen_queue", "gauge", "Connections waiting to be accepted (Linux TCP only).", v.ListenQueue)
	writeCountMetrics(&m, v.Counts)
	m.metric("appgen_start_time_seconds", "gauge", "When the pool started, in seconds since the epoch.", v.Start.Unix())
	return m.String()
}

// metricsWriter writes the OpenMetrics text format for /metrics and the
// status page's ?openmetrics: each family's HELP and TYPE lines before its
// samples, a counter's samples named NAME_total, and the closing "# EOF"
// (String). Family names and label names are the callers' constants; label
// values are escaped as the format requires.
type metricsWriter struct {
	b    strings.Builder
	name string // the family samples belong to
}

// family declares the family name of type typ ("counter", "gauge",
// "histogram"); samples that follow belong to it.
func (m *metricsWriter) family(name, typ, help string) {
	fmt.Fprintf(&m.b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	m.name = name
}

// sample writes one sample of the current family: its name with suffix
// ("_total", "_bucket", "_count", "_sum" or ""), the labels given as name,
// value pairs, and val as %v prints it.
func (m *metricsWriter) sample(suffix string, val any, labels ...string) {
	m.b.WriteString(m.name + suffix)
	for i := 0; i+1 < len(labels); i += 2 {
		sep := ","
		if i == 0 {
			sep = "{"
		}
		m.b.WriteString(sep + labels[i] + `="` + labelEscaper.Replace(labels[i+1]) + `"`)
	}
	if len(labels) > 1 {
		m.b.WriteString("}")
	}
	fmt.Fprintf(&m.b, " %v\n", val)
}

// metric is a family with one sample and no labels.
func (m *metricsWriter) metric(name, typ, help string, val any) {
	m.family(name, typ, help)
	suffix := ""
	if typ == "counter" {
		suffix = "_total"
	}
	m.sample(suffix, val)
}

// String is the exposition, ended with "# EOF".
func (m *metricsWriter) String() string { return m.b.String() + "# EOF\n" }

// labelEscaper escapes a label value: OpenMetrics reads \\, \" and \n there.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
