// Package prefork is the prefork process model: a master process that never
// serves requests itself keeps a set of worker processes, each a re-execution
// of the same binary, accepting connections on one shared listening socket.
//
// It is Django's runfcgi method=prefork (flup's PreforkServer) for any server
// with the shape of *http.Server. The master starts workers with the listener
// inherited as file descriptor 3 and a pipe on which each worker reports when
// it is ready and, at most every 100 ms, how many requests it has in flight
// and has served: a request costs the worker a few atomic operations and the
// master nothing. From those reports the master keeps between MinSpare and
// MaxSpare idle workers and at most MaxChildren accepting connections. A Go
// worker serves many requests at once, so it is idle until it is saturated
// (Concurrency requests in flight), and the defaults follow the cores: one
// worker per core, two per core at most. The master replaces workers that
// reach MaxRequests (plus a random MaxRequestsJitter) or MaxRSS, or crash,
// and on SIGHUP it starts a new generation of workers from the binary now on
// disk before gracefully stopping the old one (Ready, Reloading and
// ReloadFailed tell the caller, which runfcgi passes on to systemd).
//
// The master keeps the socket for its workers as a bare descriptor, outside
// Go's poller, so that the connections they accept never wake it; it closes
// l as it starts, leaving a unix socket's file for the caller to remove after
// Master returns.
//
// Memory: MinSpare workers share what one process would have, GOMAXPROCS
// and GOGC divided among them (unless the environment sets them), and the
// master, once a generation serves, drops the pages of the program it
// touched only while starting (Linux), so that it stays a thin supervisor
// although it is the same binary as its workers.
//
// A program uses the package from one entry point, run in both roles:
//
//	if prefork.IsWorker() {
//		return prefork.Worker(ctx, func(wrap func(http.Handler) http.Handler) prefork.Server {
//			return &fastcgi.Server{Handler: wrap(app)}
//		}, cfg)
//	}
//	l, err := net.Listen("tcp", addr)
//	...
//	return prefork.Master(ctx, l, cfg)
//
// The worker must apply wrap to its handler: that is how it counts requests
// (not connections) for MaxRequests and knows when it is busy.
//
// Unix only: on other systems Master and Worker return ErrNotSupported.
// Workers run in their own process group, so a terminal's Ctrl-C reaches only
// the master, which drains them; on Linux a worker also gets SIGTERM if the
// master dies, and everywhere it drains and exits when its pipe from the
// master closes.
package prefork
