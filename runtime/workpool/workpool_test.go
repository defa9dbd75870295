package workpool

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// settle waits for the goroutines of tasks that have returned to go idle or
// exit; the bound only turns a hang into a failure.
func settle(t *testing.T, p *Pool, want func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := p.Stats()
		if want(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("pool never settled: stats %+v", s)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestStart(t *testing.T) {
	tests := []struct {
		name     string
		limits   [3]int // MinSpare, MaxSpare, MaxWorkers
		wantIdle int
		wantErr  string
	}{
		{name: "defaults", limits: [3]int{0, 0, 0}, wantIdle: DefaultMinSpare},
		{name: "explicit", limits: [3]int{3, 4, 10}, wantIdle: 3},
		{name: "min spare above default max spare", limits: [3]int{8, 0, 0}, wantIdle: 8},
		{name: "max spare above max workers", limits: [3]int{1, 9, 2}, wantIdle: 1},
		{name: "negative min spare", limits: [3]int{-1, 0, 0}, wantErr: "workpool: MinSpare -1 is negative"},
		{name: "negative max spare", limits: [3]int{0, -1, 0}, wantErr: "workpool: MaxSpare -1 is negative"},
		{name: "negative max workers", limits: [3]int{0, 0, -1}, wantErr: "workpool: MaxWorkers -1 is negative"},
		{name: "min above max spare", limits: [3]int{4, 3, 0}, wantErr: "workpool: MinSpare 4 exceeds MaxSpare 3"},
		{name: "min above max workers", limits: [3]int{4, 6, 3}, wantErr: "workpool: MinSpare 4 exceeds MaxWorkers 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Pool{MinSpare: tt.limits[0], MaxSpare: tt.limits[1], MaxWorkers: tt.limits[2]}
			err := p.Start()
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("Start() = %v, want an error starting %q", err, tt.wantErr)
				}
				if p.Start() != err {
					t.Errorf("a second Start() did not return the first error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Start() = %v", err)
			}
			defer p.Close()
			if got := p.Stats(); got != (Stats{Idle: tt.wantIdle}) {
				t.Errorf("after Start: stats %+v, want %d idle", got, tt.wantIdle)
			}
		})
	}
}

func TestGoPanicsOnBadLimits(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(error).Error(), "MinSpare 4 exceeds MaxSpare 3") {
			t.Errorf("Go with bad limits: recovered %v, want the validation error", r)
		}
	}()
	p := &Pool{MinSpare: 4, MaxSpare: 3}
	p.Go(func() {})
}

// TestLimits fills the pool with blocked tasks, checks where Go starts
// refusing and what stays idle once they are released.
func TestLimits(t *testing.T) {
	tests := []struct {
		name     string
		limits   [3]int // MinSpare, MaxSpare, MaxWorkers
		callers  int    // Run calls, each on its own goroutine, before the Go calls
		tasks    int    // Go calls while every earlier task is blocked
		wantRun  int    // how many Run and Go calls were accepted
		wantBusy Stats
		wantRest Stats // after every task returned
	}{
		{
			name: "under the limit keeps min spare idle", limits: [3]int{2, 3, 10},
			tasks: 3, wantRun: 3, wantBusy: Stats{Idle: 2, Busy: 3}, wantRest: Stats{Idle: 3},
		},
		{
			name: "at the limit refuses", limits: [3]int{2, 3, 4},
			tasks: 7, wantRun: 4, wantBusy: Stats{Idle: 0, Busy: 4}, wantRest: Stats{Idle: 3},
		},
		{
			name: "one worker", limits: [3]int{1, 1, 1},
			tasks: 2, wantRun: 1, wantBusy: Stats{Busy: 1}, wantRest: Stats{Idle: 1},
		},
		{
			name: "max spare equal to max workers", limits: [3]int{1, 5, 5},
			tasks: 5, wantRun: 5, wantBusy: Stats{Busy: 5}, wantRest: Stats{Idle: 5},
		},
		{
			name: "Run counts against the limit", limits: [3]int{1, 2, 4},
			callers: 3, tasks: 3, wantRun: 4, wantBusy: Stats{Idle: 1, Busy: 4}, wantRest: Stats{Idle: 2},
		},
		{
			name: "Run beyond the limit refuses", limits: [3]int{1, 1, 2},
			callers: 3, wantRun: 2, wantBusy: Stats{Idle: 1, Busy: 2}, wantRest: Stats{Idle: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// No queue: the tasks beyond MaxWorkers are refused (TestQueue
			// has the queue).
			p := &Pool{MinSpare: tt.limits[0], MaxSpare: tt.limits[1], MaxWorkers: tt.limits[2], MaxQueue: -1}
			defer p.Close()
			release := make(chan struct{})
			var started sync.WaitGroup
			run := 0
			for range tt.callers {
				began := make(chan struct{})
				ran := make(chan bool, 1)
				go func() { ran <- p.Run(func() { close(began); <-release }) }()
				select {
				case <-began:
					run++
				case ok := <-ran:
					if ok {
						t.Fatal("Run returned true before its task did")
					}
				}
			}
			for range tt.tasks {
				started.Add(1)
				if p.Go(func() { started.Done(); <-release }) {
					run++
				} else {
					started.Done()
				}
			}
			started.Wait()
			if run != tt.wantRun {
				t.Errorf("Run and Go accepted %d of %d tasks, want %d", run, tt.callers+tt.tasks, tt.wantRun)
			}
			if got := p.Stats(); (Stats{Idle: got.Idle, Busy: got.Busy}) != tt.wantBusy {
				t.Errorf("while blocked: stats %+v, want %+v", got, tt.wantBusy)
			}
			close(release)
			settle(t, p, func(s Stats) bool { return s.Busy == 0 })
			got := p.Stats()
			if (Stats{Idle: got.Idle, Busy: got.Busy}) != tt.wantRest {
				t.Errorf("after release: stats %+v, want %+v", got, tt.wantRest)
			}
			// Everything accepted ran at once; the rest was refused.
			if got.MaxBusy != tt.wantRun || got.Refused != tt.callers+tt.tasks-tt.wantRun {
				t.Errorf("after release: MaxBusy %d, Refused %d; want %d and %d", got.MaxBusy, got.Refused, tt.wantRun, tt.callers+tt.tasks-tt.wantRun)
			}
			// The idle goroutines left must take new work without new ones.
			done := make(chan struct{})
			if !p.Go(func() { close(done) }) {
				t.Fatal("Go refused a task with idle goroutines")
			}
			<-done
		})
	}
}

// TestQueue: beyond MaxWorkers, Go's tasks and Run's callers wait in one
// queue, in arrival order, and take the slots of the tasks that end, never
// running more than MaxWorkers at once; beyond MaxQueue they are refused.
// Regression (issue 11): the pool refused a task whenever MaxWorkers held a
// slot, and a slot is held until a task returns, a moment after its
// response went out: a web server that sent the next request at once (HAProxy
// multiplexing 50 requests to maxchildren=50) got it refused.
func TestQueue(t *testing.T) {
	p := &Pool{MinSpare: 1, MaxSpare: 1, MaxWorkers: 2, MaxQueue: 3}
	release := []chan struct{}{make(chan struct{}), make(chan struct{})}
	var started sync.WaitGroup
	for i := range 2 {
		started.Add(1)
		if !p.Go(func() { started.Done(); <-release[i] }) {
			t.Fatal("Go refused a task under MaxWorkers")
		}
	}
	started.Wait()

	var mu sync.Mutex
	var order []string
	ran := func(name string) func() {
		return func() { mu.Lock(); order = append(order, name); mu.Unlock() }
	}
	if !p.Go(ran("go 1")) || !p.Go(ran("go 2")) {
		t.Fatal("Go refused a task while the queue had room")
	}
	runDone := make(chan bool)
	go func() { runDone <- p.Run(ran("run")) }()
	settle(t, p, func(s Stats) bool { return s.Queued == 3 })
	if p.Go(ran("refused")) {
		t.Error("Go accepted a task beyond MaxQueue")
	}
	if r := p.Run(ran("refused run")); r {
		t.Error("Run accepted a task beyond MaxQueue")
	}
	if got := p.Stats(); got != (Stats{Busy: 2, MaxBusy: 2, Queued: 3, Waited: 3, Refused: 2}) {
		t.Errorf("while full: stats %+v", got)
	}

	// One slot freed: the queue drains through it, in order.
	close(release[0])
	if !<-runDone {
		t.Fatal("Run reported false for a caller that waited in the queue")
	}
	mu.Lock()
	got := strings.Join(order, ", ")
	mu.Unlock()
	if got != "go 1, go 2, run" {
		t.Errorf("queued tasks ran in the order %q, want go 1, go 2, run", got)
	}
	settle(t, p, func(s Stats) bool { return s.Busy == 1 && s.Queued == 0 })

	// Close waits for a task queued behind the one still running.
	queuedRan := make(chan struct{})
	started.Add(1)
	if !p.Go(func() { started.Done(); <-release[1] }) {
		t.Fatal("Go refused a task with a free slot")
	}
	started.Wait()
	if !p.Go(func() { close(queuedRan) }) {
		t.Fatal("Go refused a task while the queue had room")
	}
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	close(release[1])
	<-closed
	select {
	case <-queuedRan:
	default:
		t.Error("Close returned before a queued task ran")
	}
	if s := p.Stats(); s.MaxBusy != 2 {
		t.Errorf("MaxBusy %d, want 2: more than MaxWorkers ran at once", s.MaxBusy)
	}
}

func TestCloseWaitsForTasks(t *testing.T) {
	p := &Pool{MinSpare: 1, MaxSpare: 2, MaxWorkers: 3}
	var finished atomic.Int32
	release := make(chan struct{})
	var started sync.WaitGroup
	for range 3 {
		started.Add(1)
		if !p.Go(func() { started.Done(); <-release; finished.Add(1) }) {
			t.Fatal("Go refused a task under MaxWorkers")
		}
	}
	started.Wait()
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while tasks were running")
	case <-time.After(10 * time.Millisecond):
	}
	close(release)
	<-closed
	if n := finished.Load(); n != 3 {
		t.Errorf("Close returned after %d of 3 tasks finished", n)
	}
	if p.Go(func() {}) {
		t.Error("Go after Close accepted a task")
	}
	if got := p.Stats(); got.Idle != 0 || got.Busy != 0 || got.Refused != 0 {
		t.Errorf("after Close: stats %+v, want no goroutine and no refusal (a closed pool refuses, it is not overloaded)", got)
	}
	p.Close()
}

// TestConcurrentGo hammers Go and Run from many goroutines (run it with -race) and
// checks that no more than MaxWorkers tasks ever run at once and that every
// accepted task runs exactly once.
func TestConcurrentGo(t *testing.T) {
	const maxWorkers = 8
	p := &Pool{MinSpare: 2, MaxSpare: 4, MaxWorkers: maxWorkers, MaxQueue: 4}
	var running, peak, ran, accepted atomic.Int64
	var callers sync.WaitGroup
	for i := range 16 {
		submit := p.Go
		if i%2 == 1 {
			submit = p.Run
		}
		callers.Add(1)
		go func() {
			defer callers.Done()
			for range 500 {
				ok := submit(func() {
					n := running.Add(1)
					for {
						old := peak.Load()
						if n <= old || peak.CompareAndSwap(old, n) {
							break
						}
					}
					ran.Add(1)
					running.Add(-1)
				})
				if ok {
					accepted.Add(1)
				}
			}
		}()
	}
	callers.Wait()
	p.Close()
	if ran.Load() != accepted.Load() {
		t.Errorf("%d tasks ran, %d accepted", ran.Load(), accepted.Load())
	}
	if peak.Load() > maxWorkers {
		t.Errorf("%d tasks ran at once, want at most %d", peak.Load(), maxWorkers)
	}
	if accepted.Load() == 0 {
		t.Error("no task was accepted")
	}
}
