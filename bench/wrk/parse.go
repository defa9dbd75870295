package wrk

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Result is one wrk run as its report states it.
type Result struct {
	// Requests is the number of responses wrk completed ("N requests in …").
	Requests int64
	// Elapsed is how long the run took by wrk's clock.
	Elapsed time.Duration
	// RequestsPerSec is wrk's "Requests/sec" line.
	RequestsPerSec float64
	// Latency maps a percentile (50, 75, 90, 99) to its latency; empty without --latency.
	Latency map[int]time.Duration
	// LatencyMean and LatencyMax are the "Latency" thread-stats row.
	LatencyMean, LatencyMax time.Duration
	// Non2xx counts responses with a status outside 2xx and 3xx.
	Non2xx int64
	// Connect, Read, Write and Timeout are the "Socket errors" counts; zero when wrk printed none.
	Connect, Read, Write, Timeout int64
}

// SocketErrors is the sum of the socket error counts.
func (r Result) SocketErrors() int64 { return r.Connect + r.Read + r.Write + r.Timeout }

// Parse reads wrk's plain-text report. It needs at least the "N requests in T" and
// "Requests/sec" lines, which every completed run prints.
func Parse(report string) (Result, error) {
	var res Result
	var sawTotal, sawRate bool
	inDist := false
	sc := bufio.NewScanner(strings.NewReader(report))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case line == "Latency Distribution":
			inDist = true
			res.Latency = map[int]time.Duration{}
		case inDist && len(f) == 2 && strings.HasSuffix(f[0], "%"):
			p, err := strconv.ParseFloat(strings.TrimSuffix(f[0], "%"), 64)
			if err != nil {
				return res, fmt.Errorf("wrk: percentile %q: %w", f[0], err)
			}
			d, err := ParseDuration(f[1])
			if err != nil {
				return res, err
			}
			res.Latency[int(p)] = d
		case f[0] == "Latency" && len(f) >= 4:
			var err error
			if res.LatencyMean, err = ParseDuration(f[1]); err != nil {
				return res, err
			}
			if res.LatencyMax, err = ParseDuration(f[3]); err != nil {
				return res, err
			}
		case len(f) >= 4 && f[1] == "requests" && f[2] == "in":
			inDist = false
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return res, fmt.Errorf("wrk: request count %q: %w", f[0], err)
			}
			d, err := ParseDuration(strings.TrimSuffix(f[3], ","))
			if err != nil {
				return res, err
			}
			res.Requests, res.Elapsed, sawTotal = n, d, true
		case strings.HasPrefix(line, "Socket errors:"):
			if err := parseSocketErrors(strings.TrimPrefix(line, "Socket errors:"), &res); err != nil {
				return res, err
			}
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:"):
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(line, "Non-2xx or 3xx responses:")), 10, 64)
			if err != nil {
				return res, fmt.Errorf("wrk: non-2xx count in %q: %w", line, err)
			}
			res.Non2xx = n
		case f[0] == "Requests/sec:" && len(f) == 2:
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return res, fmt.Errorf("wrk: requests/sec %q: %w", f[1], err)
			}
			res.RequestsPerSec, sawRate = v, true
		}
	}
	if !sawTotal || !sawRate {
		return res, fmt.Errorf("wrk: report has no %q or %q line", "N requests in T", "Requests/sec:")
	}
	return res, nil
}

// parseSocketErrors reads "connect 0, read 0, write 0, timeout 0".
func parseSocketErrors(s string, res *Result) error {
	for _, part := range strings.Split(s, ",") {
		f := strings.Fields(part)
		if len(f) != 2 {
			return fmt.Errorf("wrk: socket error field %q, want \"name count\"", part)
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return fmt.Errorf("wrk: socket error count %q: %w", part, err)
		}
		switch f[0] {
		case "connect":
			res.Connect = n
		case "read":
			res.Read = n
		case "write":
			res.Write = n
		case "timeout":
			res.Timeout = n
		default:
			return fmt.Errorf("wrk: socket error kind %q, want connect, read, write or timeout", f[0])
		}
	}
	return nil
}

// ParseDuration reads wrk's durations ("635.91us", "1.02ms", "10.01s", "1.50m", "2.00h").
func ParseDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}
	for _, u := range units {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || v < 0 || v > 1e6 {
			return 0, fmt.Errorf("wrk: duration %q, want a number and one of us, ms, s, m, h", s)
		}
		return time.Duration(v * float64(u.unit)), nil
	}
	return 0, fmt.Errorf("wrk: duration %q, want a number and one of us, ms, s, m, h", s)
}
