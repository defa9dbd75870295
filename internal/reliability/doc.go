// Package reliability is the fault and load harness of issue 5: Go tests that put appgen's
// protocol servers and process models under load, signals, crashes, hostile peers and bad
// bytes, and count what was lost.
//
// Every scenario reports the requests it sent, the non-2xx answers and the socket errors; the
// target is none lost. The short scenarios (a panicking path, malformed input on each protocol,
// SIGTERM during load, body limits) run in the default `go test ./...`, in a few seconds each.
// Failover across three backends (a SIGKILL, a restart and a SIGTERM under load) runs in
// the default `go test` against every web server that balances (nginx, Apache, lighttpd,
// Caddy, HAProxy), each with the configuration `appgen config` writes for it.
// The long ones (SIGHUP and maxrequests recycling under load through nginx, kill -9 of busy
// workers, 1,000 idle connections per protocol, and the long versions of the short ones) run
// when APPGEN_LONG=1 is set:
//
//	APPGEN_LONG=1 go test ./internal/reliability/ -v -timeout 30m
//
// or as part of bench/run. Everything listens on loopback, and every load loop is bounded in
// count and time.
//
// The non-test files hold what the scenarios share and what bench/ reuses: raw clients that
// speak FastCGI, SCGI and AJP13 (and can be told to speak them wrongly), the test application's
// Handler, a bounded HTTP load generator, and /proc readers for process trees and memory.
// testdata/app is the application the process-model scenarios run through runfcgi.
package reliability
