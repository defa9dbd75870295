package runfcgi

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync/atomic"

	"github.com/appgen/appgen/runtime/prefork"
)

func isWorker() bool { return prefork.IsWorker() }

// preforkDefaults replaces the threaded defaults of the worker counts that
// were not given with the prefork package's, which follow the cores: a Go
// worker serves many requests at once, so Django's 2/5/50 processes would
// be far too many. Given values stay as they are.
func (o *Options) preforkDefaults(seen map[string]string) error {
	cfg := prefork.Config{MaxRequests: o.MaxRequests}
	if _, ok := seen["minspare"]; ok {
		cfg.MinSpare = o.MinSpare
	}
	if _, ok := seen["maxspare"]; ok {
		cfg.MaxSpare = o.MaxSpare
	}
	if _, ok := seen["maxchildren"]; ok {
		cfg.MaxChildren = o.MaxChildren
	}
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return usagef("method=prefork: %v", err)
	}
	o.MinSpare, o.MaxSpare, o.MaxChildren = cfg.MinSpare, cfg.MaxSpare, cfg.MaxChildren
	return nil
}

// preforkConfig maps Django's options one to one: the prefork package has
// the same knobs as flup's PreforkServer.
func (r *run) preforkConfig() prefork.Config {
	cfg := prefork.Config{
		MinSpare:    r.o.MinSpare,
		MaxSpare:    r.o.MaxSpare,
		MaxChildren: r.o.MaxChildren,
		MaxRequests: r.o.MaxRequests,
		ErrorLog:    r.log,

		MaxRequestsJitter: r.o.Jitter,
		MaxRSS:            r.o.MaxRSS,
		StatusFile:        r.o.Status != "",
		Counters:          func() (int64, int64) { return r.sup.slow.Load(), r.sup.timeouts.Load() },
	}
	if r.o.Admin != "" {
		// Responses by status and duration travel to the master's /metrics.
		cfg.Metrics = r.ops.rec.snapshot
	}
	return cfg
}

// master runs the prefork master on l until ctx is done and its workers
// have drained. It makes one server first, so that a configuration error
// (a bad FCGI_WEB_SERVER_ADDRS) stops the master, where it is seen, rather
// than every worker it starts.
func (r *run) master(ctx context.Context, l net.Listener) error {
	if _, err := r.newServer(r.handler(), nil); err != nil {
		return err
	}
	cfg := r.preforkConfig()
	if r.o.Admin != "" {
		var latest atomic.Pointer[prefork.Stats]
		latest.Store(&prefork.Stats{})
		cfg.Observe = func(s prefork.Stats) { latest.Store(&s) }
		r.ops.setView(func() poolView { return preforkView(r.ops.start, *latest.Load(), nil) })
		a, err := startAdmin(r.o.Admin, &r.ops, r.log.Printf)
		if err != nil {
			return err
		}
		defer a.close()
		go func() {
			<-ctx.Done()
			r.ops.draining.Store(true)
		}()
	}
	r.notifyPrefork(ctx, &cfg, l)
	if err := prefork.Master(ctx, l, cfg); err != nil {
		return fmt.Errorf("runfcgi: method=prefork: %w", err)
	}
	return nil
}

// worker serves in a process the prefork master started with the same
// arguments: the master owns the socket file, the pidfile and the daemon,
// so a worker only serves.
func (r *run) worker() error {
	ctx, stop := r.stopContext()
	defer stop()
	// A handler that ignores timeout='s cancellation is only got rid of
	// with its process: the worker drains (its other requests are answered)
	// and the master replaces it.
	r.sup.stuck = stop
	r.ops.setView(workerView)
	h := r.handler()
	// The master made the same server before starting any worker.
	if _, err := r.newServer(h, nil); err != nil {
		return err
	}
	newServer := func(wrap func(http.Handler) http.Handler) prefork.Server {
		srv, _ := r.newServer(wrap(h), nil)
		return srv
	}
	if err := prefork.Worker(ctx, newServer, r.preforkConfig()); err != nil {
		return fmt.Errorf("runfcgi: prefork worker: %w", err)
	}
	return nil
}

// notifyPrefork tells systemd about the master: ready once its workers
// serve, reloading on SIGHUP until the new generation serves (or fails to
// start, the old one serving on), stopping when ctx is done. The master's
// pid stays the main process throughout.
func (r *run) notifyPrefork(ctx context.Context, cfg *prefork.Config, l net.Listener) {
	if r.notifier == nil {
		return
	}
	cfg.Ready = func(gen int) {
		r.notifyReady(fmt.Sprintf("%s, generation %d of workers", r.serving(l), gen))
	}
	cfg.Reloading = func(gen int) {
		r.notifyReloading(fmt.Sprintf("SIGHUP: starting generation %d of workers; the old ones serve meanwhile", gen))
	}
	cfg.ReloadFailed = func(gen int, err error) {
		r.notifyReady(fmt.Sprintf("SIGHUP: generation %d of workers fails to start (%v); the old ones go on serving", gen, err))
	}
	go func() {
		<-ctx.Done()
		r.notifyStopping(fmt.Sprintf("stopping: the workers finish the requests in flight (pid %d)", os.Getpid()))
	}()
}
