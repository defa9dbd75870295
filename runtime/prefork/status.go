package prefork

import (
	"fmt"
	"strconv"
	"strings"
)

// A worker tells its master about itself with one line per message:
//
//	ready                      listening; sent once, first
//	load <inflight> <served>   requests in flight now, requests started so far
//	drain <served>             stopped accepting; exits when in-flight requests end
//
// Numbers are decimal without sign or leading zeros. Load lines are sent
// whenever either number changes, coalesced: the master only needs the latest.

type statusKind int

const (
	statusReady statusKind = iota + 1
	statusLoad
	statusDrain
)

// maxStatusLine bounds a status line, so a confused worker cannot make the
// master buffer without limit.
const maxStatusLine = 64

type status struct {
	kind     statusKind
	inflight int
	served   int
}

func (s status) String() string {
	switch s.kind {
	case statusReady:
		return "ready"
	case statusLoad:
		return fmt.Sprintf("load %d %d", s.inflight, s.served)
	case statusDrain:
		return fmt.Sprintf("drain %d", s.served)
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
		s.kind, want = statusLoad, 3
	case "drain":
		s.kind, want = statusDrain, 2
	default:
		return status{}, fmt.Errorf("prefork: status line %q: unknown message, want ready, load or drain", line)
	}
	if len(fields) != want {
		return status{}, fmt.Errorf("prefork: status line %q: %d fields, want %d", line, len(fields), want)
	}
	nums := make([]int, 0, 2)
	for _, f := range fields[1:] {
		n, err := parseCount(f)
		if err != nil {
			return status{}, fmt.Errorf("prefork: status line %q: %w", line, err)
		}
		nums = append(nums, n)
	}
	switch s.kind {
	case statusLoad:
		s.inflight, s.served = nums[0], nums[1]
		if s.inflight > s.served {
			return status{}, fmt.Errorf("prefork: status line %q: %d requests in flight of %d served, want at most as many", line, s.inflight, s.served)
		}
	case statusDrain:
		s.served = nums[0]
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
