package main

import (
	"testing"
	"time"

	"github.com/appgen/appgen/bench/wrk"
	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// TestSites runs every benchmark case's configuration through its server's own validator, so a
// broken case shows up in `go test`, not half-way through a benchmark run.
func TestSites(t *testing.T) {
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			webserver.Require(t, c.Server)
			dir := webserver.TempDir(t)
			web := webserver.FreePort(t)
			site, err := c.Site(dir, web, 9)
			if err != nil {
				t.Fatal(err)
			}
			if err := webserver.Check(webserver.Config{Program: c.Server, Dir: dir, Port: web, Site: site}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPeersExist: every peer a case names is a case, or its ratio would silently vanish.
func TestPeersExist(t *testing.T) {
	names := map[string]bool{}
	for _, c := range cases {
		names[c.Name] = true
	}
	for _, c := range cases {
		for _, p := range c.Peers {
			if !names[p] {
				t.Errorf("case %q names peer %q, which is not a case", c.Name, p)
			}
		}
	}
}

func TestSummarize(t *testing.T) {
	ms := time.Millisecond
	res := func(rps float64, p50, p99 time.Duration) sample {
		return sample{
			Result:     wrk.Result{RequestsPerSec: rps, Requests: 10, Read: 1, Latency: map[int]time.Duration{50: p50, 99: p99}},
			backendCPU: p50 / 100, serverCPU: p99 / 100,
		}
	}
	tests := []struct {
		name string
		in   []sample
		want summary
	}{
		{"one", []sample{res(100, ms, 2*ms)}, summary{rps: 100, rpsMin: 100, rpsMax: 100, p50: ms, p99: 2 * ms, backendCPU: ms / 100, serverCPU: 2 * ms / 100, requests: 10, sockErrs: 1}},
		{"odd count takes the middle", []sample{res(300, 3*ms, 9*ms), res(100, ms, 2*ms), res(200, 2*ms, 5*ms)},
			summary{rps: 200, rpsMin: 100, rpsMax: 300, p50: 2 * ms, p99: 5 * ms, backendCPU: 2 * ms / 100, serverCPU: 5 * ms / 100, requests: 30, sockErrs: 3}},
		{"even count averages the middle two", []sample{res(100, ms, 2*ms), res(300, 3*ms, 4*ms)},
			summary{rps: 200, rpsMin: 100, rpsMax: 300, p50: 2 * ms, p99: 3 * ms, backendCPU: 2 * ms / 100, serverCPU: 3 * ms / 100, requests: 20, sockErrs: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summarize(tt.in); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPerRep(t *testing.T) {
	rps := func(v ...float64) []sample {
		s := make([]sample, len(v))
		for i := range v {
			s[i].RequestsPerSec = v[i]
		}
		return s
	}
	tests := []struct {
		name string
		a, b []sample
		want string
	}{
		{"median of the ratios, not ratio of the medians", rps(90, 200, 100), rps(100, 100, 200), "0.90× (0.50–2.00)"},
		{"one repetition", rps(50), rps(100), "0.50× (0.50–0.50)"},
		{"a case that failed part-way", rps(90, 80), rps(100), "–"},
		{"no results", nil, nil, "–"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := perRep(tt.a, tt.b); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
