package workpool

import (
	"fmt"
	"sync"
)

// Defaults are Django's runfcgi defaults for minspare, maxspare and
// maxchildren, and a queue as long as the protocol servers' default
// MaxRequests, so that by default the server's own limit is the one reached.
const (
	DefaultMinSpare   = 2
	DefaultMaxSpare   = 5
	DefaultMaxWorkers = 50
	DefaultMaxQueue   = 1024
)

// Pool runs tasks on a bounded set of goroutines. The zero value is ready to
// use with the defaults; set the fields before the first call to Start or Go
// and do not change them afterwards. A Pool must not be copied after first use.
type Pool struct {
	// MinSpare is how many idle goroutines are kept ready for the next task.
	// 0 means DefaultMinSpare (2).
	MinSpare int
	// MaxSpare is how many idle goroutines may wait for work; a goroutine whose
	// task ends when MaxSpare are already idle exits. 0 means DefaultMaxSpare
	// (5), raised to MinSpare if that is larger.
	MaxSpare int
	// MaxWorkers is how many tasks may run at once; beyond it a task waits in
	// the queue. 0 means DefaultMaxWorkers (50).
	MaxWorkers int
	// MaxQueue is how many tasks may wait, in arrival order, for one of the
	// MaxWorkers running to end (php-fpm's requests wait the same way, in
	// its socket's backlog); Go and Run report false beyond it. A slot is
	// given back when a task returns, a moment after its response went out,
	// and a web server may send its next request in between: without a
	// queue, that request would be refused under a load the pool can run.
	// 0 means DefaultMaxQueue (1024); negative: no queue, refuse at once.
	MaxQueue int

	once     sync.Once
	startErr error

	mu sync.Mutex
	// idle holds the channel of each goroutine waiting for a task, most
	// recently idle last, so the goroutine with the warmest stack and cache
	// is reused first. A goroutine's channel has room for one task and it is
	// only sent one after being taken off this list under mu, so a send never
	// blocks.
	idle     []chan func()
	total    int // goroutines alive, idle or running a task
	callers  int // tasks running on their callers' goroutines (Run)
	peak     int // the most tasks running at once
	refused  int // tasks refused because MaxWorkers were running and the queue was full
	waited   int // tasks that waited in the queue
	closed   bool
	min, max int // resolved MinSpare and MaxSpare
	limit    int // resolved MaxWorkers
	maxQueue int // resolved MaxQueue; 0: none
	// queue holds the tasks waiting for a slot, oldest first: a Go task, or
	// the channel a Run caller waits on. A slot freed goes to its head.
	queue []waiter
	done  sync.WaitGroup
}

// waiter is a task waiting in the queue: a Go task, or a Run caller that
// is woken (its channel closed) once the slot is its own.
type waiter struct {
	task  func()
	ready chan struct{}
}

// Stats is a snapshot of a pool's goroutines.
type Stats struct {
	Idle int // waiting for a task
	Busy int // tasks running, on the pool's goroutines or through Run
	// MaxBusy is the most tasks that ran at once since the pool started
	// (php-fpm's "max active processes").
	MaxBusy int
	// Queued is how many tasks wait in the queue now (php-fpm's "listen
	// queue").
	Queued int
	// Waited counts the tasks that had to wait in the queue (php-fpm's "max
	// children reached" counts such moments).
	Waited int
	// Refused counts the tasks Go and Run refused because MaxWorkers were
	// running and MaxQueue were waiting.
	Refused int
}

// Start validates the limits and starts MinSpare idle goroutines. Calling it
// is optional (Go starts the pool on first use) but it reports bad limits as
// an error instead of a panic; later calls return the first call's result.
func (p *Pool) Start() error {
	p.once.Do(func() { p.startErr = p.start() })
	return p.startErr
}

func (p *Pool) start() error {
	minSpare, maxSpare, maxWorkers, maxQueue := p.MinSpare, p.MaxSpare, p.MaxWorkers, p.MaxQueue
	switch {
	case minSpare < 0:
		return fmt.Errorf("workpool: MinSpare %d is negative, want 0 (default %d) or more", minSpare, DefaultMinSpare)
	case maxSpare < 0:
		return fmt.Errorf("workpool: MaxSpare %d is negative, want 0 (default %d) or more", maxSpare, DefaultMaxSpare)
	case maxWorkers < 0:
		return fmt.Errorf("workpool: MaxWorkers %d is negative, want 0 (default %d) or more", maxWorkers, DefaultMaxWorkers)
	}
	if minSpare == 0 {
		minSpare = DefaultMinSpare
	}
	if maxWorkers == 0 {
		maxWorkers = DefaultMaxWorkers
	}
	if maxSpare == 0 {
		maxSpare = max(DefaultMaxSpare, minSpare)
	}
	switch {
	case maxQueue == 0:
		maxQueue = DefaultMaxQueue
	case maxQueue < 0:
		maxQueue = 0
	}
	if minSpare > maxSpare {
		return fmt.Errorf("workpool: MinSpare %d exceeds MaxSpare %d, want MinSpare <= MaxSpare", minSpare, maxSpare)
	}
	if minSpare > maxWorkers {
		return fmt.Errorf("workpool: MinSpare %d exceeds MaxWorkers %d, want MinSpare <= MaxWorkers", minSpare, maxWorkers)
	}
	// More idle goroutines than MaxWorkers could never all be used.
	maxSpare = min(maxSpare, maxWorkers)

	p.mu.Lock()
	defer p.mu.Unlock()
	p.min, p.max, p.limit, p.maxQueue = minSpare, maxSpare, maxWorkers, maxQueue
	p.addSpares()
	return nil
}

// addSpares starts idle goroutines until MinSpare are idle or MaxWorkers are
// alive, unless the pool is closed. p.mu must be held.
func (p *Pool) addSpares() {
	for !p.closed && len(p.idle) < p.min && p.total < p.limit {
		ch := make(chan func(), 1)
		p.idle = append(p.idle, ch)
		p.total++
		p.done.Add(1)
		go p.worker(ch, nil)
	}
}

// Go runs task on an idle goroutine, or on a new one while fewer than
// MaxWorkers tasks run; otherwise task waits in the queue for the first
// slot a task gives back. It never blocks: it reports false, without
// running task, when MaxQueue tasks already wait or the pool is closed.
// Go panics if the limits are invalid and Start was not called to report it.
func (p *Pool) Go(task func()) bool {
	if err := p.Start(); err != nil {
		panic(err)
	}
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return false
	case p.full():
		ok := p.enqueue(waiter{task: task})
		p.mu.Unlock()
		return ok
	}
	p.launch(task)
	return true
}

// full reports whether a new task has to wait: MaxWorkers run, or others
// wait already (they go first). p.mu must be held.
func (p *Pool) full() bool { return p.running() >= p.limit || len(p.queue) > 0 }

// enqueue adds w to the queue, or counts a refusal when MaxQueue wait
// already. p.mu must be held.
func (p *Pool) enqueue(w waiter) bool {
	if len(p.queue) >= p.maxQueue {
		p.refused++
		return false
	}
	p.queue = append(p.queue, w)
	p.waited++
	return true
}

// next takes the head of the queue, to which the slot of a task that just
// ended passes. p.mu must be held.
func (p *Pool) next() (waiter, bool) {
	if len(p.queue) == 0 {
		return waiter{}, false
	}
	w := p.queue[0]
	p.queue[0] = waiter{}
	p.queue = p.queue[1:]
	return w, true
}

// launch runs task on an idle goroutine or a new one, as one of the tasks
// running, and unlocks p.mu.
func (p *Pool) launch(task func()) {
	if n := len(p.idle); n > 0 {
		ch := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.addSpares()
		p.peak = max(p.peak, p.running())
		p.mu.Unlock()
		ch <- task
		return
	}
	// No goroutine is idle: a new one, as the threaded model starts a
	// thread.
	ch := make(chan func(), 1)
	p.total++
	p.done.Add(1)
	p.addSpares()
	p.peak = max(p.peak, p.running())
	p.mu.Unlock()
	go p.worker(ch, task)
}

// Run runs task on the calling goroutine as one of the MaxWorkers tasks
// the pool allows at once, and reports true. When MaxWorkers run, the caller
// waits in the queue, in turn with the tasks given to Go, for a slot. It
// reports false, without running task, when MaxQueue tasks already wait or
// the pool is closed. A protocol server whose connection goroutine would
// only wait while a pool goroutine ran the handler calls Run instead of Go,
// and keeps the limit without the switch between goroutines. Close waits
// for Run's task as for Go's.
func (p *Pool) Run(task func()) bool {
	if err := p.Start(); err != nil {
		panic(err)
	}
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return false
	case p.full():
		ready := make(chan struct{})
		if !p.enqueue(waiter{ready: ready}) {
			p.mu.Unlock()
			return false
		}
		p.done.Add(1)
		p.mu.Unlock()
		// The task that gives its slot counts this caller among callers.
		<-ready
	default:
		p.callers++
		p.peak = max(p.peak, p.running())
		p.done.Add(1)
		p.mu.Unlock()
	}
	defer func() {
		p.mu.Lock()
		p.callers--
		if w, ok := p.next(); ok {
			if w.task != nil {
				p.launch(w.task)
				p.done.Done()
				return
			}
			p.callers++
			close(w.ready)
		}
		p.mu.Unlock()
		p.done.Done()
	}()
	task()
	return true
}

// Limit returns MaxWorkers with its default applied, or 0 if the limits
// are invalid: how many tasks run at once. A FastCGI server reports it as
// FCGI_MAX_REQS, so that a multiplexing web server sends no more at once.
func (p *Pool) Limit() int {
	if p.Start() != nil {
		return 0
	}
	return p.limit
}

// running is how many tasks run now, on the pool's goroutines and on
// callers'. p.mu must be held.
func (p *Pool) running() int { return p.total - len(p.idle) + p.callers }

// worker runs task, if any, then the tasks waiting in the queue, then waits
// on ch for the next one for as long as it is allowed to stay idle. A nil
// task means the goroutine starts idle, already on the idle list; a closed
// ch means the pool closed.
func (p *Pool) worker(ch chan func(), task func()) {
	defer p.done.Done()
	for {
		if task == nil {
			var ok bool
			if task, ok = <-ch; !ok {
				p.mu.Lock()
				p.total--
				p.mu.Unlock()
				return
			}
		}
		task()
		task = nil
		p.mu.Lock()
		if w, ok := p.next(); ok {
			if w.task != nil {
				// The slot stays with this goroutine, for the next task.
				task = w.task
				p.mu.Unlock()
				continue
			}
			// The slot passes to a Run caller; this goroutine is free.
			p.callers++
			close(w.ready)
		}
		if p.closed || len(p.idle) >= p.max {
			p.total--
			p.mu.Unlock()
			return
		}
		p.idle = append(p.idle, ch)
		p.mu.Unlock()
	}
}

// Stats reports how many goroutines are idle and how many are running tasks.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{Idle: len(p.idle), Busy: p.running(), MaxBusy: p.peak, Queued: len(p.queue), Waited: p.waited, Refused: p.refused}
}

// Close stops the idle goroutines, makes later calls to Go and Run report
// false, and waits for the running tasks and those already queued to
// return. It is safe to call more than once.
func (p *Pool) Close() {
	if p.Start() != nil {
		return
	}
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		for _, ch := range p.idle {
			close(ch)
		}
		p.idle = nil
	}
	p.mu.Unlock()
	p.done.Wait()
}
