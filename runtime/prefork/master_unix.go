//go:build unix

package prefork

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/appgen/appgen/runtime/internal/listenfd"
)

// Timing of the master's decisions. They are not configurable: they only
// pace process churn, and Apache's prefork MPM has used the same one-second
// pace for retiring idle children for decades.
const (
	retireEvery      = time.Second            // stop at most one surplus idle worker per tick
	minIdleToRetire  = time.Second            // and only one idle for at least this long
	firstBackoff     = 100 * time.Millisecond // after a worker dies before becoming ready
	maxBackoff       = 10 * time.Second
	maxStartFailures = 5 // in a row, before any worker was ever ready: give up
)

type worker struct {
	cmd       *exec.Cmd
	pid       int
	gen       int
	control   *os.File // write end of the worker's control pipe; closing it stops the worker
	ready     bool
	draining  bool // the worker said it stopped accepting
	stopping  bool // the master closed its control pipe
	inflight  int
	served    int
	slow      int
	timeouts  int
	counts    [MaxCounters]int
	start     time.Time
	busy      bool // at its Concurrency limit at its last report
	idleSince time.Time
}

func (w *worker) accepting() bool { return !w.draining && !w.stopping }

// spare says whether the worker can take more requests: starting, or ready
// and not saturated.
func (w *worker) spare() bool { return !w.ready || !w.busy }

type event struct {
	w      *worker
	status status
	exited bool
	err    error // of cmd.Wait, when exited
}

type master struct {
	cfg  Config
	sock int // the listening socket, a bare descriptor outside Go's poller (see Master); -1 once closed
	exe  string
	args []string

	workers   map[*worker]bool
	events    chan event
	spawns    chan *exec.Cmd
	spawnErrs chan error

	gen                          int
	started                      int
	crashed                      int
	retired                      int // requests served by workers that have exited
	retiredSlow, retiredTimeouts int
	recycled                     int
	maxActive                    int
	maxReached                   int
	startTime                    time.Time
	statusFile                   *statusWriter
	atMax                        bool // the last maintain found MaxChildren saturated
	maxQueue                     int  // the most connections seen waiting in the listen queue
	retiredCounts                [MaxCounters]int64
	everReady                    bool
	failures                     int       // workers in a row that exited before becoming ready
	giveUp                       error     // set when failures say no worker will ever start
	notBefore                    time.Time // no new worker before this, after failures
	last                         Stats
	observed                     bool
	servedGen                    int // 1 + the last generation that served (MinSpare ready): 0 before any
	failedGen                    int // 1 + the last SIGHUP generation reported to ReloadFailed
}

// Master runs the prefork master on l until ctx is done: it starts workers by
// re-executing this binary, keeps their number within cfg's limits, replaces
// those that exit, and restarts them all on SIGHUP. The master never accepts
// on l. When ctx is done it closes its copy of the socket, tells every worker
// to stop accepting and finish its requests, and returns nil once they have
// all exited.
//
// Master closes l as it starts and keeps the socket for its workers as a bare
// descriptor (package listenfd): as a listener it was in Go's poller, which
// woke the master for every connection its workers accepted. A *net.UnixListener's
// file is left in place (Master turns its SetUnlinkOnClose off), since the
// workers go on listening on it: the caller removes it after Master returns.
//
// If workers keep exiting before they become ready and none ever did, Master
// gives up after a few tries, spaced out, and returns the last failure.
func Master(ctx context.Context, l net.Listener, cfg Config) error {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return err
	}
	if IsWorker() {
		return errors.New("prefork: Master called in a worker process, want Worker")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("prefork: finding this program to start workers: %w", err)
	}
	sock, err := listenfd.Dup(l)
	if err != nil {
		return fmt.Errorf("prefork: %w", err)
	}
	if ul, ok := l.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false)
	}
	l.Close()
	m := &master{
		cfg:       cfg,
		sock:      sock,
		exe:       exe,
		args:      os.Args,
		workers:   make(map[*worker]bool),
		events:    make(chan event),
		spawns:    make(chan *exec.Cmd),
		spawnErrs: make(chan error),
	}
	defer m.closeSocket()
	m.startTime = time.Now()
	if cfg.StatusFile {
		if m.statusFile, err = newStatusWriter(cfg.ErrorLog.Printf); err != nil {
			return err
		}
		defer m.statusFile.close()
	}
	go m.spawner()
	defer close(m.spawns)
	return m.run(ctx)
}

// ListenerFile duplicates l's socket into a file (close-on-exec) to hand to
// another process in exec.Cmd.ExtraFiles: Master's workers, or runfcgi's
// successor on SIGHUP. It does not use the listener's File method: the
// *os.File that returns switches the socket, shared with every process, to
// blocking mode when exec asks for its descriptor, and a process blocked in
// accept cannot be shut down.
func ListenerFile(l net.Listener) (*os.File, error) {
	fd, err := listenfd.Dup(l)
	if err != nil {
		return nil, fmt.Errorf("prefork: %w", err)
	}
	return os.NewFile(uintptr(fd), "prefork-listener"), nil
}

// closeSocket closes the master's copy of the socket, once.
func (m *master) closeSocket() {
	if m.sock >= 0 {
		listenfd.Close(m.sock)
		m.sock = -1
	}
}

// spawner starts every worker from one goroutine locked to its OS thread:
// Linux sends a worker its parent-death signal when the thread that forked it
// exits, and the Go runtime may end threads, but not one locked for good.
func (m *master) spawner() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for cmd := range m.spawns {
		m.spawnErrs <- cmd.Start()
	}
}

func (m *master) run(ctx context.Context) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	tick := time.NewTicker(retireEvery)
	defer tick.Stop()
	backoff := time.NewTimer(0)
	defer backoff.Stop()

	for {
		if err := m.maintain(backoff); err != nil {
			m.drain(nil)
			return err
		}
		m.observe()
		select {
		case <-ctx.Done():
			m.drain(hup)
			return nil
		case <-hup:
			m.gen++
			m.cfg.ErrorLog.Printf("prefork: SIGHUP: starting generation %d of workers, then stopping the old ones", m.gen)
			if m.cfg.Reloading != nil {
				m.cfg.Reloading(m.gen)
			}
		case ev := <-m.events:
			m.handle(ev)
		case <-tick.C:
			m.retireOne()
		case <-backoff.C:
		}
	}
}

// maintain starts workers until MinSpare current ones are idle or starting,
// within MaxChildren, and stops the previous generation once MinSpare current
// workers are ready. After a failure it starts one worker at a time, spaced
// out, until one becomes ready.
func (m *master) maintain(backoff *time.Timer) error {
	if m.giveUp != nil {
		return m.giveUp
	}
	for {
		var current, spare, starting, ready int
		for w := range m.workers {
			if w.gen != m.gen || !w.accepting() {
				continue
			}
			current++
			if !w.ready {
				starting++
			} else {
				ready++
			}
			if w.spare() {
				spare++
			}
		}
		if ready >= m.cfg.MinSpare {
			for w := range m.workers {
				if w.gen != m.gen && !w.stopping {
					m.stop(w)
				}
			}
			if m.servedGen != m.gen+1 {
				// Once per generation, when its workers serve: the
				// master's start-up is over, and so is a SIGHUP's.
				m.servedGen = m.gen + 1
				if err := dropProgramPages(); err != nil {
					m.cfg.ErrorLog.Print(err)
				}
				if m.cfg.Ready != nil {
					m.cfg.Ready(m.gen)
				}
			}
		}
		if spare >= m.cfg.MinSpare {
			return nil
		}
		if current >= m.cfg.MaxChildren {
			if !m.atMax {
				m.atMax = true
				m.maxReached++
				m.cfg.ErrorLog.Printf("prefork: all %d workers (MaxChildren) are saturated; raise maxchildren or the per-worker limit", current)
			}
			return nil
		}
		m.atMax = false
		if m.failures > 0 {
			if starting > 0 {
				return nil
			}
			if wait := time.Until(m.notBefore); wait > 0 {
				backoff.Reset(wait)
				return nil
			}
		}
		if err := m.spawn(); err != nil {
			m.cfg.ErrorLog.Print(err)
			if giveUp := m.failed(err); giveUp != nil {
				return giveUp
			}
		}
	}
}

// failed records a worker that could not start or died before it was ready,
// and returns an error when it is time to give up.
func (m *master) failed(err error) error {
	m.failures++
	if !m.everReady && m.failures >= maxStartFailures {
		return fmt.Errorf("prefork: %d workers in a row exited before becoming ready, the last: %w", m.failures, err)
	}
	delay := min(firstBackoff<<(m.failures-1), maxBackoff)
	m.notBefore = time.Now().Add(delay)
	m.cfg.ErrorLog.Printf("prefork: next worker start in %v", delay)
	return nil
}

func (m *master) spawn() error {
	// While it is open the copy is in Go's poller (see Master).
	sock, err := listenfd.File(m.sock, "prefork-listener")
	if err != nil {
		return fmt.Errorf("prefork: starting a worker: %w", err)
	}
	defer sock.Close()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("prefork: starting a worker: %w", err)
	}
	controlR, controlW, err := os.Pipe()
	if err != nil {
		statusR.Close()
		statusW.Close()
		return fmt.Errorf("prefork: starting a worker: %w", err)
	}
	cmd := &exec.Cmd{
		Path:        m.exe,
		Args:        m.args,
		Env:         m.workerEnv(),
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		ExtraFiles:  []*os.File{sock, statusW, controlR},
		SysProcAttr: procAttr(),
	}
	m.spawns <- cmd
	err = <-m.spawnErrs
	// The worker has its own copies; the master's ends must go so that each
	// pipe reports end-of-file when the other side exits.
	statusW.Close()
	controlR.Close()
	if err != nil {
		statusR.Close()
		controlW.Close()
		return fmt.Errorf("prefork: starting worker %s: %w", m.exe, err)
	}
	w := &worker{cmd: cmd, pid: cmd.Process.Pid, gen: m.gen, control: controlW, start: time.Now()}
	m.workers[w] = true
	m.started++
	readerDone := make(chan struct{})
	go m.read(w, statusR, readerDone)
	go func() {
		err := cmd.Wait()
		// A grandchild holding the status pipe must not keep the exit from
		// being reported.
		statusR.Close()
		<-readerDone
		m.events <- event{w: w, exited: true, err: err}
	}()
	return nil
}

// workerEnv is this process's environment for a worker: marked as one, with
// GOMAXPROCS set so that MinSpare workers together run one thread of Go
// code per core, as one threaded process would, and GOGC so that together
// they keep about the heap headroom one process would (workerGOGC), unless
// the environment already sets them. Measured through nginx, workers that
// each used every core spent 1.14 times the CPU per request of workers with
// one core each, for the same throughput (docs/process-models.md).
func (m *master) workerEnv() []string {
	env := append(withoutEnv(os.Environ(), workerEnv, statusEnv), workerEnv+"="+workerVersion)
	if m.statusFile != nil {
		env = append(env, statusEnv+"="+m.statusFile.path)
	}
	if _, set := os.LookupEnv("GOMAXPROCS"); !set {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(workerProcs(runtime.GOMAXPROCS(0), m.cfg.MinSpare)))
	}
	if _, set := os.LookupEnv("GOGC"); !set {
		env = append(env, "GOGC="+strconv.Itoa(workerGOGC(m.cfg.MinSpare)))
	}
	return env
}

// withoutEnv drops the variables named from env.
func withoutEnv(env []string, names ...string) []string {
	out := make([]string, 0, len(env)+2)
next:
	for _, kv := range env {
		for _, name := range names {
			if strings.HasPrefix(kv, name+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// read forwards a worker's status lines to the master loop until the pipe
// closes. A malformed line means the worker is not ours to trust: it is
// killed and replaced like a crashed one.
func (m *master) read(w *worker, r *os.File, done chan<- struct{}) {
	defer close(done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, maxStatusLine+1), maxStatusLine+1)
	for sc.Scan() {
		s, err := parseStatus(sc.Text())
		if err != nil {
			m.cfg.ErrorLog.Printf("prefork: worker pid %d: %v; killing it", w.pid, err)
			w.cmd.Process.Kill()
			return
		}
		m.events <- event{w: w, status: s}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, os.ErrClosed) {
		m.cfg.ErrorLog.Printf("prefork: worker pid %d: reading its status: %v; killing it", w.pid, err)
		w.cmd.Process.Kill()
	}
}

func (m *master) handle(ev event) {
	w := ev.w
	if ev.exited {
		delete(m.workers, w)
		m.retired += w.served
		m.retiredSlow += w.slow
		m.retiredTimeouts += w.timeouts
		for i, n := range w.counts {
			m.retiredCounts[i] += int64(n)
		}
		w.control.Close()
		asked := w.stopping || w.draining
		switch {
		case ev.err == nil && asked:
			m.recycled++
		case ev.err == nil:
			m.cfg.ErrorLog.Printf("prefork: worker pid %d exited unasked after %d requests; replacing it", w.pid, w.served)
		default:
			m.crashed++
			m.cfg.ErrorLog.Printf("prefork: worker pid %d: %v after %d requests; replacing it", w.pid, ev.err, w.served)
		}
		if !w.ready && !asked {
			if ev.err == nil {
				ev.err = errors.New("exit status 0")
			}
			// The exit is already logged; failed paces the next start or gives up.
			err := fmt.Errorf("worker pid %d exited before becoming ready: %w", w.pid, ev.err)
			m.giveUp = m.failed(err)
			if w.gen == m.gen && m.gen > 0 && m.servedGen != m.gen+1 && m.failedGen != m.gen+1 && m.cfg.ReloadFailed != nil {
				m.failedGen = m.gen + 1
				m.cfg.ReloadFailed(m.gen, err)
			}
		}
		return
	}
	switch ev.status.kind {
	case statusReady:
		w.ready = true
		w.idleSince = time.Now()
		m.everReady = true
		m.failures = 0
	case statusLoad:
		busy := ev.status.peak >= m.cfg.Concurrency
		if w.busy && !busy {
			w.idleSince = time.Now()
		}
		w.busy = busy
		w.inflight, w.served = ev.status.inflight, ev.status.served
		w.slow, w.timeouts = ev.status.slow, ev.status.timeouts
	case statusDrain:
		w.draining = true
		w.served = ev.status.served
	case statusCounts:
		w.counts = ev.status.counts
	}
}

// retireOne stops the longest-idle current worker when more than MaxSpare are
// idle (not saturated), one per tick so that a short lull does not empty the
// pool. The worker drains as any stopping worker does, so the requests it
// has in flight are answered.
func (m *master) retireOne() {
	var idle []*worker
	for w := range m.workers {
		if w.gen == m.gen && w.accepting() && w.ready && !w.busy {
			idle = append(idle, w)
		}
	}
	if len(idle) <= m.cfg.MaxSpare {
		return
	}
	sort.Slice(idle, func(i, j int) bool { return idle[i].idleSince.Before(idle[j].idleSince) })
	if time.Since(idle[0].idleSince) >= minIdleToRetire {
		m.stop(idle[0])
	}
}

// stop tells a worker to stop accepting and exit when its requests are done.
func (m *master) stop(w *worker) {
	w.stopping = true
	w.control.Close()
}

// drain stops every worker and waits for them all to exit. Closing the
// master's copy of the socket first means nothing accepts after the last
// worker goes.
func (m *master) drain(hup <-chan os.Signal) {
	m.closeSocket()
	for w := range m.workers {
		if !w.stopping {
			m.stop(w)
		}
	}
	m.observe()
	for len(m.workers) > 0 {
		select {
		case ev := <-m.events:
			m.handle(ev)
			m.observe()
		case <-hup:
			m.cfg.ErrorLog.Print("prefork: SIGHUP ignored: shutting down")
		}
	}
}

func (m *master) observe() {
	if m.cfg.Observe == nil && m.statusFile == nil {
		return
	}
	s := m.stats()
	if m.observed && s == m.last {
		return
	}
	m.observed, m.last = true, s
	if m.statusFile != nil {
		m.statusFile.write(m.status(s))
	}
	if m.cfg.Observe != nil {
		m.cfg.Observe(s)
	}
}

func (m *master) state(w *worker) string {
	switch {
	case !w.accepting():
		return "stopping"
	case w.gen != m.gen:
		return "retiring"
	case !w.ready:
		return "starting"
	case !w.busy:
		return "idle"
	}
	return "busy"
}

func (m *master) stats() Stats {
	s := Stats{Generation: m.gen, Started: m.started, Crashed: m.crashed, Requests: m.retired,
		Slow: m.retiredSlow, Timeouts: m.retiredTimeouts, Recycled: m.recycled, MaxChildrenReached: m.maxReached,
		Counts: m.retiredCounts}
	for w := range m.workers {
		for i, n := range w.counts {
			s.Counts[i] += int64(n)
		}
		s.InFlight += w.inflight
		s.Requests += w.served
		s.Slow += w.slow
		s.Timeouts += w.timeouts
		if w.inflight > 0 {
			s.Active++
		}
		switch m.state(w) {
		case "stopping":
			s.Stopping++
		case "retiring":
			s.Retiring++
		case "starting":
			s.Starting++
		case "idle":
			s.Idle++
		default:
			s.Busy++
		}
	}
	m.maxActive = max(m.maxActive, s.Active)
	s.MaxActive = m.maxActive
	// A unix socket has no TCP_INFO: listenQueueFD says so.
	if q, c, ok := listenQueueFD(m.sock); ok {
		m.maxQueue = max(m.maxQueue, q)
		s.ListenQueue, s.MaxListenQueue, s.ListenQueueLen = q, m.maxQueue, c
	}
	return s
}

func (m *master) status(s Stats) Status {
	st := Status{Start: m.startTime, Stats: s, Workers: make([]WorkerStatus, 0, len(m.workers))}
	for w := range m.workers {
		st.Workers = append(st.Workers, WorkerStatus{PID: w.pid, State: m.state(w), Start: w.start, InFlight: w.inflight, Requests: w.served})
	}
	sort.Slice(st.Workers, func(i, j int) bool { return st.Workers[i].PID < st.Workers[j].PID })
	return st
}
