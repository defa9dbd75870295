package workpool

import (
	"sync"
	"sync/atomic"
	"testing"
)

// The benchmarks compare handing a short task to the pool with starting a
// goroutine for it, the cost the threaded model pays per request either way.
// MaxWorkers is far above what the loop can keep busy; a refusal (the loop
// outrunning the scheduler) is counted, not fatal.

func BenchmarkGoStatement(b *testing.B) {
	var wg sync.WaitGroup
	b.ReportAllocs()
	for b.Loop() {
		wg.Add(1)
		go wg.Done()
	}
	wg.Wait()
}

func BenchmarkPoolGo(b *testing.B) {
	p := &Pool{MinSpare: 4, MaxSpare: 64, MaxWorkers: 1 << 20}
	defer p.Close()
	var wg sync.WaitGroup
	task := wg.Done
	refused := 0
	b.ReportAllocs()
	for b.Loop() {
		wg.Add(1)
		if !p.Go(task) {
			wg.Done()
			refused++
		}
	}
	wg.Wait()
	b.ReportMetric(float64(refused)/float64(b.N), "refused/op")
}

func BenchmarkGoStatementParallel(b *testing.B) {
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			wg.Add(1)
			go wg.Done()
		}
	})
	wg.Wait()
}

func BenchmarkPoolGoParallel(b *testing.B) {
	p := &Pool{MinSpare: 4, MaxSpare: 64, MaxWorkers: 1 << 20}
	defer p.Close()
	var wg sync.WaitGroup
	task := wg.Done
	var refused atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			wg.Add(1)
			if !p.Go(task) {
				wg.Done()
				refused.Add(1)
			}
		}
	})
	wg.Wait()
	b.ReportMetric(float64(refused.Load())/float64(b.N), "refused/op")
}

// The Handoff benchmarks wait for each task before the next, as a server
// under steady load finds a goroutine idle: the pool reuses one, while a go
// statement creates and destroys one per task.

func BenchmarkGoStatementHandoff(b *testing.B) {
	done := make(chan struct{})
	task := func() { done <- struct{}{} }
	b.ReportAllocs()
	for b.Loop() {
		go task()
		<-done
	}
}

func BenchmarkPoolGoHandoff(b *testing.B) {
	p := &Pool{MinSpare: 2, MaxSpare: 5, MaxWorkers: 50}
	defer p.Close()
	done := make(chan struct{})
	task := func() { done <- struct{}{} }
	b.ReportAllocs()
	for b.Loop() {
		if !p.Go(task) {
			b.Fatal("Go refused a task with idle goroutines")
		}
		<-done
	}
}
