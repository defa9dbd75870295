// Package workpool is the threaded process model's bounded pool of goroutines.
//
// It maps Django's runfcgi options for method=threaded (minspare, maxspare,
// maxchildren) onto goroutines: at most MaxWorkers tasks run at once, MinSpare
// idle goroutines are started ahead of demand, and a goroutine that finds
// MaxSpare others already idle when its task ends exits instead of waiting.
//
// A protocol server hands each request's handler to Pool.Go, or runs it on
// the connection's own goroutine through Pool.Run when that goroutine would
// otherwise only wait; both count against MaxWorkers. When either reports
// false the server answers that request as overloaded (FCGI_OVERLOADED, 503)
// rather than queueing it, so a burst never builds an unbounded backlog.
//
// What it does not do: it never queues tasks, never recovers a task's panic
// (a panicking task crashes the process, as with a go statement), and never
// stops an idle goroutine on a timer; spares only shrink when tasks end.
package workpool
