package runfcgi

import (
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"
)

// Ops are the keys issue 11 adds to Django's for operating a site: request
// supervision and worker recycling. They are parsed with the rest by Parse.
type Ops struct {
	// Timeout is how long a request may run: then it is answered 504 (if
	// nothing was sent yet), its context is cancelled, and it is logged with
	// its request line. In prefork, a worker whose handler is still running
	// a further Timeout later (it ignored the cancellation) is replaced after
	// its other requests finish. Default 0: no limit.
	Timeout time.Duration
	// SlowLog is how long a request may run before its goroutine's stack is
	// logged, once, with its request line. Default 0: not logged.
	SlowLog time.Duration
	// Jitter adds a random 0..Jitter to each prefork worker's maxrequests.
	// Default 0: none.
	Jitter int
	// MaxRSS is the resident memory, in bytes, past which a prefork worker
	// is replaced after its requests in flight. Default 0: no limit.
	MaxRSS int64
	// Status is a request path answered with php-fpm's status page (?json,
	// ?openmetrics, ?full) instead of the site. Default "": none.
	Status string
	// Ping is a request path answered "pong". Default "": none.
	Ping string
	// Admin is a TCP address (host:port) for an HTTP listener with
	// /healthz, /readyz and /metrics. Default "": none.
	Admin string
}

// setOps stores one Ops value and reports whether k was an Ops key.
func (o *Options) setOps(k, v string) (bool, error) {
	var err error
	switch k {
	case "timeout":
		o.Timeout, err = duration(k, v)
	case "slowlog":
		o.SlowLog, err = duration(k, v)
	case "jitter":
		o.Jitter, err = count(k, v, 0)
	case "maxrss":
		o.MaxRSS, err = parseSize(v)
		if err != nil {
			err = usagef("maxrss=%q: %v", v, err)
		}
	case "status":
		o.Status, err = requestPath(k, v)
	case "ping":
		o.Ping, err = requestPath(k, v)
	case "admin":
		host, port, perr := net.SplitHostPort(v)
		if n, aerr := strconv.Atoi(port); perr != nil || aerr != nil || n < 1 || n > 65535 || strings.ContainsAny(host, " /") {
			return true, usagef("admin=%q: want host:port, such as 127.0.0.1:9001", v)
		}
		o.Admin = v
	default:
		return false, nil
	}
	return true, err
}

// checkOps applies the rules between Ops keys and the others.
func (o *Options) checkOps() error {
	if o.Method != "prefork" {
		switch {
		case o.MaxRSS > 0:
			return usagef("maxrss= recycles prefork workers; with method=%s there is no worker to replace, use method=prefork", o.Method)
		case o.Jitter > 0:
			return usagef("jitter= spreads prefork workers' maxrequests; with method=%s use method=prefork", o.Method)
		}
	}
	if o.Status != "" && o.Status == o.Ping {
		return usagef("status=%s and ping=%s are the same path; give each its own", o.Status, o.Ping)
	}
	if o.Jitter > 0 && o.MaxRequests == 0 {
		return usagef("jitter=%d needs maxrequests=: it is added to each worker's maxrequests", o.Jitter)
	}
	return nil
}

// requestPath accepts what a URL path inside the site looks like.
func requestPath(k, v string) (string, error) {
	if !strings.HasPrefix(v, "/") || strings.ContainsAny(v, "?# \t") {
		return "", usagef("%s=%q: want a path inside the site such as /%s, without a query", k, v, k)
	}
	return v, nil
}

func duration(k, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, usagef("%s=%q: want a positive duration such as 30s or 1m30s", k, v)
	}
	return d, nil
}

// parseSize reads a size in bytes: a whole number, optionally followed by K,
// M or G (or KiB, MiB, GiB), each 1024 times the one before; case does not
// matter. "512M" is 536870912.
func parseSize(s string) (int64, error) {
	num := strings.TrimRight(s, "KMGiBkmgib")
	unit := strings.ToLower(s[len(num):])
	var shift uint
	switch unit {
	case "":
	case "k", "kib":
		shift = 10
	case "m", "mib":
		shift = 20
	case "g", "gib":
		shift = 30
	default:
		return 0, fmt.Errorf("unit %q: want none (bytes), K, M or G (KiB, MiB, GiB)", unit)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || num[0] == '+' {
		return 0, fmt.Errorf("want a positive whole number of bytes, K, M or G, such as 512M")
	}
	if n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("%s is too large", s)
	}
	return n << shift, nil
}
