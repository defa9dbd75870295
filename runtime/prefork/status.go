package prefork

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// A worker tells its master about itself with one line per message:
//
//	ready                      listening; sent once, first
//	load <inflight> <served> <peak> <slow> <timeouts>
//	                           requests in flight now, requests started so far,
//	                           most requests in flight since the last load line,
//	                           and the worker's Config.Counters so far
//	drain <served>             stopped accepting; exits when in-flight requests end
//	counts <c1> ... <cN>       the worker's Config.Metrics so far (1 to MaxCounters)
//
// Numbers are decimal without sign or leading zeros. A worker sends a load
// line at most every reportEvery, and only when a number changed: requests
// only touch atomic counters, so serving costs no system call for the
// master's bookkeeping however many requests there are. The peak lets the
// master see a worker that was saturated between two reports.

type statusKind int

const (
	statusReady statusKind = iota + 1
	statusLoad
	statusDrain
	statusCounts
)

// maxStatusLine bounds a status line, so a confused worker cannot make the
// master buffer without limit.
const maxStatusLine = 512

type status struct {
	kind     statusKind
	inflight int
	served   int
	peak     int
	slow     int
	timeouts int
	counts   [MaxCounters]int
	ncounts  int
}

func (s status) String() string {
	switch s.kind {
	case statusReady:
		return "ready"
	case statusLoad:
		return fmt.Sprintf("load %d %d %d %d %d", s.inflight, s.served, s.peak, s.slow, s.timeouts)
	case statusDrain:
		return fmt.Sprintf("drain %d", s.served)
	case statusCounts:
		var b strings.Builder
		b.WriteString("counts")
		for _, n := range s.counts[:s.ncounts] {
			b.WriteByte(' ')
			b.WriteString(strconv.Itoa(n))
		}
		return b.String()
	}
	return fmt.Sprintf("status(%d)", int(s.kind))
}

// parseStatus parses one status line, without its newline.
func parseStatus(line string) (status, error) {
	if len(line) > maxStatusLine {
		return status{}, fmt.Errorf("prefork: status line of %d bytes, want at most %d", len(line), maxStatusLine)
	}
	fields := strings.Split(line, " ")
	var s status
	var want int
	switch fields[0] {
	case "ready":
		s.kind, want = statusReady, 1
	case "load":
		s.kind, want = statusLoad, 6
	case "drain":
		s.kind, want = statusDrain, 2
	case "counts":
		s.kind, want = statusCounts, len(fields)
		if want < 2 || want > MaxCounters+1 {
			return status{}, fmt.Errorf("prefork: status line %q: %d counts, want 1 to %d", line, want-1, MaxCounters)
		}
	default:
		return status{}, fmt.Errorf("prefork: status line %q: unknown message, want ready, load, drain or counts", line)
	}
	if len(fields) != want {
		return status{}, fmt.Errorf("prefork: status line %q: %d fields, want %d", line, len(fields), want)
	}
	nums := make([]int, 0, MaxCounters)
	for _, f := range fields[1:] {
		n, err := parseCount(f)
		if err != nil {
			return status{}, fmt.Errorf("prefork: status line %q: %w", line, err)
		}
		nums = append(nums, n)
	}
	switch s.kind {
	case statusLoad:
		s.inflight, s.served, s.peak, s.slow, s.timeouts = nums[0], nums[1], nums[2], nums[3], nums[4]
		if s.inflight > s.peak || s.peak > s.served {
			return status{}, fmt.Errorf("prefork: status line %q: in flight %d, served %d, peak %d, want in flight <= peak <= served", line, s.inflight, s.served, s.peak)
		}
	case statusDrain:
		s.served = nums[0]
	case statusCounts:
		s.ncounts = copy(s.counts[:], nums)
	}
	return s, nil
}

// parseCount accepts exactly what strconv.Itoa writes for a non-negative int.
func parseCount(f string) (int, error) {
	if f == "" || (len(f) > 1 && f[0] == '0') || strings.TrimLeft(f, "0123456789") != "" {
		return 0, fmt.Errorf("count %q is not a decimal number without sign or leading zeros", f)
	}
	n, err := strconv.Atoi(f)
	if err != nil {
		return 0, fmt.Errorf("count %q out of range", f)
	}
	return n, nil
}

// parseStatm returns the resident bytes from a /proc/PID/statm line: sizes
// in pages, the second being the resident set.
func parseStatm(line string, pageSize int) (int64, error) {
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0, fmt.Errorf("prefork: statm %q: want at least 2 fields", line)
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || pages < 0 || pageSize <= 0 || pages > math.MaxInt64/int64(pageSize) {
		return 0, fmt.Errorf("prefork: statm %q: resident pages %q is not a count of %d-byte pages", line, f[1], pageSize)
	}
	return pages * int64(pageSize), nil
}
