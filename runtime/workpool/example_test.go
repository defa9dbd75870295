package workpool_test

import (
	"fmt"
	"sync"

	"github.com/appgen/appgen/runtime/workpool"
)

func ExamplePool() {
	// Django's runfcgi method=threaded minspare=2 maxspare=5 maxchildren=3.
	pool := &workpool.Pool{MinSpare: 2, MaxSpare: 5, MaxWorkers: 3}
	if err := pool.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()

	release := make(chan struct{})
	var running sync.WaitGroup
	for i := 1; i <= 4; i++ {
		running.Add(1)
		ok := pool.Go(func() {
			running.Done()
			<-release
		})
		if !ok {
			running.Done()
			// A protocol server answers this request as overloaded.
			fmt.Printf("request %d: overloaded\n", i)
		}
	}
	running.Wait()
	fmt.Printf("%+v\n", pool.Stats())
	close(release)
	// Output:
	// request 4: overloaded
	// {Idle:0 Busy:3 MaxBusy:3 Refused:1}
}
