// Package wrk runs the wrk HTTP load generator and reads its report, so the benchmarks in bench/
// and the long reliability scenarios compare figures taken the same way.
//
// Only wrk 4's plain-text report is understood (the one `wrk --latency` prints); Lua scripts'
// custom output is not.
package wrk
