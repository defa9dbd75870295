// Command benchrun runs appgen's benchmarks through real web servers and writes the figures,
// each as a ratio against its peer measured in the same run. bench/run calls it; see
// docs/performance.md for what is measured and how to read the results.
//
//	go run ./bench/cmd/benchrun -duration 10s -reps 3 -out bench/results/bench.md
//
// Throughput cases put nginx (1 worker) or Apache (mpm_event, one process) on loopback in
// front of one backend each, all serving the same small fixed response, and load them with
// wrk --latency from the same machine. The cases of one repetition run in turn, and the
// repetitions interleave, so drift of the machine spreads over every case alike.
//
// Memory cases read VmRSS from /proc: the prefork workers of runfcgi (the reliability test
// application) after serving requests, and a threaded FastCGI server before and after 1,000
// idle connections, against Go's net/http/fcgi holding the same connections.
package main
