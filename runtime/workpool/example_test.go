package workpool_test

import (
	"fmt"
	"sync"

	"github.com/appgen/appgen/runtime/workpool"
)

func ExamplePool() {
	// Django's runfcgi method=threaded minspare=2 maxspare=5 maxchildren=3,
	// and room for one request to wait.
	pool := &workpool.Pool{MinSpare: 2, MaxSpare: 5, MaxWorkers: 3, MaxQueue: 1}
	if err := pool.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()

	release := make(chan struct{})
	var running sync.WaitGroup
	for i := 1; i <= 5; i++ {
		if i <= 3 {
			running.Add(1)
		}
		ok := pool.Go(func() {
			if i <= 3 {
				running.Done()
			}
			<-release
		})
		if !ok {
			// A protocol server answers this request as overloaded.
			fmt.Printf("request %d: overloaded\n", i)
		}
	}
	running.Wait()
	// Request 4 waits for one of the three running to end.
	fmt.Printf("%+v\n", pool.Stats())
	close(release)
	// Output:
	// request 5: overloaded
	// {Idle:0 Busy:3 MaxBusy:3 Queued:1 Waited:1 Refused:1}
}
