package wrk

import (
	"strings"
	"testing"
	"time"
)

const reportOK = `Running 1s test @ http://127.0.0.1:18080/nonexistent
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20ms  794.15us  11.49ms   94.32%
    Req/Sec     1.68k    81.99     1.79k    60.00%
  Latency Distribution
     50%    1.06ms
     75%    1.37ms
     90%    1.69ms
     99%    4.11ms
  1673 requests in 1.00s, 849.75KB read
  Non-2xx or 3xx responses: 1673
Requests/sec:   1672.28
Transfer/sec:    849.39KB
`

const reportErrors = `Running 10s test @ http://127.0.0.1:8080/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   635.91us    0.89ms    1.50m   93.69%
    Req/Sec    28.79k     2.35k   35.00k    71.00%
  Latency Distribution
     50%  397.00us
     75%  478.00us
     90%    1.02ms
     99%    2.00s
  573074 requests in 10.01s, 67.33MB read
  Socket errors: connect 1, read 2, write 3, timeout 4
Requests/sec:  57260.85
Transfer/sec:      6.73MB
`

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		report string
		want   Result
	}{
		{"non-2xx", reportOK, Result{
			Requests: 1673, Elapsed: time.Second, RequestsPerSec: 1672.28,
			LatencyMean: 1200 * time.Microsecond, LatencyMax: 11490 * time.Microsecond,
			Latency: map[int]time.Duration{50: 1060 * time.Microsecond, 75: 1370 * time.Microsecond, 90: 1690 * time.Microsecond, 99: 4110 * time.Microsecond},
			Non2xx:  1673,
		}},
		{"socket errors", reportErrors, Result{
			Requests: 573074, Elapsed: 10010 * time.Millisecond, RequestsPerSec: 57260.85,
			LatencyMean: 635910 * time.Nanosecond, LatencyMax: 90 * time.Second,
			Latency: map[int]time.Duration{50: 397 * time.Microsecond, 75: 478 * time.Microsecond, 90: 1020 * time.Microsecond, 99: 2 * time.Second},
			Connect: 1, Read: 2, Write: 3, Timeout: 4,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.report)
			if err != nil {
				t.Fatal(err)
			}
			if !closeDur(got.Elapsed, tt.want.Elapsed) || !closeDur(got.LatencyMean, tt.want.LatencyMean) || !closeDur(got.LatencyMax, tt.want.LatencyMax) {
				t.Errorf("durations: got elapsed %v mean %v max %v, want %v %v %v", got.Elapsed, got.LatencyMean, got.LatencyMax, tt.want.Elapsed, tt.want.LatencyMean, tt.want.LatencyMax)
			}
			if got.Requests != tt.want.Requests || got.RequestsPerSec != tt.want.RequestsPerSec || got.Non2xx != tt.want.Non2xx {
				t.Errorf("counts: got %d req, %v/s, %d non-2xx; want %d, %v, %d", got.Requests, got.RequestsPerSec, got.Non2xx, tt.want.Requests, tt.want.RequestsPerSec, tt.want.Non2xx)
			}
			if got.SocketErrors() != tt.want.SocketErrors() || got.Connect != tt.want.Connect || got.Timeout != tt.want.Timeout {
				t.Errorf("socket errors: got %+v, want %+v", got, tt.want)
			}
			if len(got.Latency) != len(tt.want.Latency) {
				t.Fatalf("latency percentiles: got %v, want %v", got.Latency, tt.want.Latency)
			}
			for p, d := range tt.want.Latency {
				if !closeDur(got.Latency[p], d) {
					t.Errorf("p%d: got %v, want %v", p, got.Latency[p], d)
				}
			}
		})
	}
}

// closeDur allows for float rounding in the unit conversion.
func closeDur(a, b time.Duration) bool {
	d := a - b
	return d > -time.Microsecond/100 && d < time.Microsecond/100
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, report, wantErr string
	}{
		{"empty", "", "no"},
		{"no rate", strings.Replace(reportOK, "Requests/sec:   1672.28\n", "", 1), "Requests/sec"},
		{"bad unit", strings.Replace(reportOK, "1.06ms", "1.06xs", 1), `duration "1.06xs"`},
		{"bad socket kind", strings.Replace(reportErrors, "timeout 4", "oops 4", 1), `kind "oops"`},
		{"bad count", strings.Replace(reportOK, "1673 requests", "x requests", 1), `request count "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.report)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "wrk: ") {
				t.Fatalf("got error %v, want one starting with \"wrk: \" and containing %q", err, tt.wantErr)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(reportOK)
	f.Add(reportErrors)
	f.Add("1 requests in 1h,\nRequests/sec: 1\n")
	f.Fuzz(func(t *testing.T, report string) {
		res, err := Parse(report)
		if err != nil {
			return
		}
		if res.Elapsed < 0 || res.LatencyMean < 0 {
			t.Fatalf("negative duration from %q: %+v", report, res)
		}
	})
}
