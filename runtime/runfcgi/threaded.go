package runfcgi

import (
	"fmt"

	"github.com/appgen/appgen/runtime/workpool"
)

// newPool maps Django's threaded options onto the pool the protocol server
// runs handlers on: minspare and maxspare bound the idle goroutines,
// maxchildren the handlers running at once, and backlog the requests that
// wait for one of them (beyond it a request is answered as overloaded). The
// pool reads 0 as its default, so minspare=0 keeps one idle goroutine.
func newPool(o Options) (*workpool.Pool, error) {
	p := &workpool.Pool{MinSpare: max(o.MinSpare, 1), MaxSpare: o.MaxSpare, MaxWorkers: o.MaxChildren, MaxQueue: o.Backlog}
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("runfcgi: method=threaded: %w", err)
	}
	return p, nil
}

func closePool(p *workpool.Pool) { p.Close() }
