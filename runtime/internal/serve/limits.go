package serve

import "time"

// Defaults of the limits every protocol server shares; each protocol's
// Server documents them again as its own Default… constants.
const (
	// DefaultReadHeaderTimeout bounds the arrival of a whole request head
	// (FastCGI params, the SCGI netstring, AJP's FORWARD_REQUEST), from its
	// first byte. Web servers send a head in one write, so this is long.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultMinBodyRate is the slowest average rate, in bytes per second,
	// at which a request body may arrive after BodyRateGrace.
	DefaultMinBodyRate = 1024
	// BodyRateGrace is how long a body may take before MinBodyRate applies:
	// a client's first packets, or a web server's first write after it
	// read the client's, may take a while.
	BodyRateGrace = 5 * time.Second
	// DefaultMaxSpillBytes bounds the request bodies a server buffers on
	// disk at once.
	DefaultMaxSpillBytes = 1 << 30
)

// MinBodyRate is the rate a server enforces for its MinBodyRate field:
// 0 means DefaultMinBodyRate, a negative value no minimum (0 here, which
// BodyDeadline takes for none).
func MinBodyRate(field int) int {
	switch {
	case field < 0:
		return 0
	case field == 0:
		return DefaultMinBodyRate
	}
	return field
}

// BodyDeadline is when a read of a body that began arriving at start and
// has delivered n bytes so far fails for being slower than rate bytes a
// second on average (after BodyRateGrace). A rate of 0 or less means no
// minimum: the zero time.
//
// It replaces a timeout per read, which a peer sending a byte just inside
// each timeout keeps from ever firing.
func BodyDeadline(start time.Time, n int64, rate int) time.Time {
	if rate <= 0 {
		return time.Time{}
	}
	r := int64(rate)
	// Whole seconds first, so that no body size overflows the Duration.
	d := time.Duration(n/r)*time.Second + time.Duration(n%r)*time.Second/time.Duration(r)
	return start.Add(BodyRateGrace + d)
}

// Earliest returns the earlier of two deadlines, where the zero time means
// none.
func Earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
