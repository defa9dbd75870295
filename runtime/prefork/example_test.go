package prefork_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/appgen/appgen/runtime/prefork"
)

// The same main runs as the master and, re-executed by it, as each worker.
// (Not run by go test: it would fork the test binary.)
func Example() {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "served by pid %d\n", os.Getpid())
	})
	cfg := prefork.Config{MinSpare: 2, MaxSpare: 5, MaxChildren: 50, MaxRequests: 1000}
	// SIGTERM drains in both roles: the master's workers, or this worker.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	if prefork.IsWorker() {
		err := prefork.Worker(ctx, func(wrap func(http.Handler) http.Handler) prefork.Server {
			return &http.Server{Handler: wrap(app)}
		}, cfg)
		if err != nil {
			log.Fatal(err)
		}
		return
	}
	l, err := net.Listen("tcp", "127.0.0.1:3033")
	if err != nil {
		log.Fatal(err)
	}
	if err := prefork.Master(ctx, l, cfg); err != nil {
		log.Fatal(err)
	}
}
