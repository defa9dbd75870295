// Package workpool is the threaded process model's bounded pool of goroutines.
//
// It maps Django's runfcgi options for method=threaded (minspare, maxspare,
// maxchildren) onto goroutines: at most MaxWorkers tasks run at once, MinSpare
// idle goroutines are started ahead of demand, and a goroutine that finds
// MaxSpare others already idle when its task ends exits instead of waiting.
//
// A protocol server hands each request's handler to Pool.Go, or runs it on
// the connection's own goroutine through Pool.Run when that goroutine would
// otherwise only wait; both count against MaxWorkers. Beyond MaxWorkers a
// task waits in a queue of at most MaxQueue (1024 by default), in arrival
// order, for the slot of a task that ends, as php-fpm's requests wait in its
// socket's backlog for a free child. Only beyond the queue do Go and Run
// report false, and the server answers that request as overloaded, so a
// burst never builds an unbounded backlog.
//
// What it does not do: it never recovers a task's panic (a panicking task
// crashes the process, as with a go statement), never drops a queued task
// (Close waits for it), and never stops an idle goroutine on a timer; spares
// only shrink when tasks end.
package workpool
