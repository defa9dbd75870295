package workpool

import (
	"fmt"
	"sync"
)

// Defaults are Django's runfcgi defaults for minspare, maxspare and maxchildren.
const (
	DefaultMinSpare   = 2
	DefaultMaxSpare   = 5
	DefaultMaxWorkers = 50
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
	// MaxWorkers is how many tasks may run at once; Go reports false beyond it.
	// 0 means DefaultMaxWorkers (50).
	MaxWorkers int

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
	refused  int // tasks refused because MaxWorkers were running
	closed   bool
	min, max int // resolved MinSpare and MaxSpare
	limit    int // resolved MaxWorkers
	done     sync.WaitGroup
}

// Stats is a snapshot of a pool's goroutines.
type Stats struct {
	Idle int // waiting for a task
	Busy int // tasks running, on the pool's goroutines or through Run
	// MaxBusy is the most tasks that ran at once since the pool started
	// (php-fpm's "max active processes").
	MaxBusy int
	// Refused counts the tasks Go and Run refused because MaxWorkers were
	// running (php-fpm's "max children reached" counts such moments).
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
	minSpare, maxSpare, maxWorkers := p.MinSpare, p.MaxSpare, p.MaxWorkers
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
	p.min, p.max, p.limit = minSpare, maxSpare, maxWorkers
	p.addSpares()
	return nil
}

// addSpares starts idle goroutines until MinSpare are idle or MaxWorkers are
// alive. p.mu must be held.
func (p *Pool) addSpares() {
	for len(p.idle) < p.min && p.total < p.limit {
		ch := make(chan func(), 1)
		p.idle = append(p.idle, ch)
		p.total++
		p.done.Add(1)
		go p.worker(ch, nil)
	}
}

// Go runs task on an idle goroutine, or on a new one while fewer than
// MaxWorkers are alive. It never blocks: it reports false, without running
// task, when MaxWorkers tasks are already running or the pool is closed.
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
	case p.running() >= p.limit:
		p.refused++
		p.mu.Unlock()
		return false
	case len(p.idle) > 0:
		ch := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		p.addSpares()
		p.peak = max(p.peak, p.running())
		p.mu.Unlock()
		ch <- task
	default:
		// No goroutine is idle, so fewer than MaxWorkers are alive (each
		// runs a task): a new one, as the threaded model starts a thread.
		ch := make(chan func(), 1)
		p.total++
		p.done.Add(1)
		p.addSpares()
		p.peak = max(p.peak, p.running())
		p.mu.Unlock()
		go p.worker(ch, task)
	}
	return true
}

// Run runs task on the calling goroutine as one of the MaxWorkers tasks
// the pool allows at once, and reports true; it reports false, without
// running task, when MaxWorkers tasks are already running or the pool is
// closed. A protocol server whose connection goroutine would only wait while
// a pool goroutine ran the handler calls Run instead of Go, and keeps the
// limit without the switch between goroutines. Close waits for Run's task
// as for Go's.
func (p *Pool) Run(task func()) bool {
	if err := p.Start(); err != nil {
		panic(err)
	}
	p.mu.Lock()
	if p.closed || p.running() >= p.limit {
		if !p.closed {
			p.refused++
		}
		p.mu.Unlock()
		return false
	}
	p.callers++
	p.peak = max(p.peak, p.running())
	p.done.Add(1)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.callers--
		p.mu.Unlock()
		p.done.Done()
	}()
	task()
	return true
}

// running is how many tasks run now, on the pool's goroutines and on
// callers'. p.mu must be held.
func (p *Pool) running() int { return p.total - len(p.idle) + p.callers }

// worker runs task, if any, then waits on ch for the next one for as long as
// it is allowed to stay idle. A nil task means the goroutine starts idle,
// already on the idle list; a closed ch means the pool closed.
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
	return Stats{Idle: len(p.idle), Busy: p.running(), MaxBusy: p.peak, Refused: p.refused}
}

// Close stops the idle goroutines, makes later calls to Go report false and
// waits for running tasks to return. It is safe to call more than once.
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
