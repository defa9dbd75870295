package runfcgi

import (
	"strconv"
	"time"
)

// Limits are the protocol servers' limits (runtime/fastcgi, scgi, ajp) and
// the threaded pool's queue, as runfcgi keys. Each field has the meaning of
// the server field it is copied to, zero included: 0 is that server's
// default, so a key not given changes nothing.
type Limits struct {
	// Backlog is the threaded pool's MaxQueue: how many requests wait for a
	// handler when maxchildren run (php-fpm's listen.backlog, where its
	// requests wait for a free child). Default 0: workpool.DefaultMaxQueue
	// (1024); backlog=0 is stored as -1: no queue, a request beyond
	// maxchildren gets 503 at once (flup's behaviour).
	Backlog int
	// MaxConns is the servers' MaxConns: connections at once (FastCGI
	// reports it as FCGI_MAX_CONNS). Default 0: 1024.
	MaxConns int
	// MaxInFlight is the servers' MaxRequests: requests in flight at once
	// over all connections, running or waiting in the backlog; beyond it a
	// request gets 503. Default 0: FastCGI 1024, SCGI and AJP MaxConns.
	MaxInFlight int
	// MaxMPX is the FastCGI server's MaxConnRequests: requests multiplexed
	// at once on one connection (HAProxy). Default 0: 64.
	MaxMPX int
	// MaxHeader is the servers' MaxHeaderBytes: the request's variables
	// (FastCGI params, the SCGI header, AJP's headers). Default 0: 64 KiB;
	// AJP: its packet size.
	MaxHeader int
	// MaxBody is the servers' MaxBodyBytes: the largest request body.
	// Default 0: 64 MiB.
	MaxBody int64
	// BodyBuffer is the FastCGI server's BodyMemoryBytes: the largest body
	// kept in memory; a larger one is buffered in TempDir. Default 0: 128 KiB.
	BodyBuffer int64
	// MaxSpill is the FastCGI server's MaxSpillBytes: the bodies buffered in
	// TempDir at once, over all requests. Default 0: 1 GiB.
	MaxSpill int64
	// TempDir is the FastCGI server's TempDir, where large bodies are
	// buffered (in unlinked files). Default "": os.TempDir().
	TempDir string
	// HeaderTimeout is the servers' ReadHeaderTimeout: how long a request's
	// variables may take to arrive, in all. Default 0: 10s.
	HeaderTimeout time.Duration
	// MinBodyRate is the servers' MinBodyRate, in bytes per second, after
	// the first 5 seconds of a body. Default 0: 1024; minbodyrate=0 is
	// stored as -1: no minimum.
	MinBodyRate int
	// ReadTimeout and WriteTimeout are the servers' ReadTimeout (each wait
	// for more of a request) and WriteTimeout (each write of a response).
	// Default 0: 60s each.
	ReadTimeout, WriteTimeout time.Duration
	// IdleTimeout is the servers' IdleTimeout: how long a connection with
	// no request stays open. Default 0: FastCGI and AJP 5m, SCGI 60s.
	IdleTimeout time.Duration
}

// fcgiOnlyKeys are the Limits keys only the FastCGI server has.
var fcgiOnlyKeys = []string{"maxmpx", "bodybuffer", "maxspill", "tempdir"}

// setLimits stores one Limits value and reports whether k was a Limits key.
func (o *Options) setLimits(k, v string) (bool, error) {
	var err error
	switch k {
	case "backlog":
		o.Backlog, err = count(k, v, 0)
		if o.Backlog == 0 && err == nil {
			o.Backlog = -1
		}
	case "maxconns":
		o.MaxConns, err = count(k, v, 1)
	case "maxinflight":
		o.MaxInFlight, err = count(k, v, 1)
	case "maxmpx":
		o.MaxMPX, err = count(k, v, 1)
	case "maxheader":
		var n int64
		n, err = size(k, v, 1<<30)
		o.MaxHeader = int(n)
	case "maxbody":
		o.MaxBody, err = size(k, v, 0)
	case "bodybuffer":
		o.BodyBuffer, err = size(k, v, 0)
	case "maxspill":
		o.MaxSpill, err = size(k, v, 0)
	case "tempdir":
		o.TempDir = v
	case "headertimeout":
		o.HeaderTimeout, err = duration(k, v)
	case "minbodyrate":
		var n int64
		if v == "0" {
			o.MinBodyRate = -1
			break
		}
		n, err = size(k, v, 1<<30)
		o.MinBodyRate = int(n)
	case "readtimeout":
		o.ReadTimeout, err = duration(k, v)
	case "writetimeout":
		o.WriteTimeout, err = duration(k, v)
	case "idletimeout":
		o.IdleTimeout, err = duration(k, v)
	default:
		return false, nil
	}
	return true, err
}

// size reads a key's size (see parseSize), at most limit when limit > 0.
func size(k, v string, limit int64) (int64, error) {
	n, err := parseSize(v)
	if err != nil {
		return 0, usagef("%s=%q: %v", k, v, err)
	}
	if limit > 0 && n > limit {
		return 0, usagef("%s=%q: want at most %s", k, v, strconv.FormatInt(limit>>30, 10)+"G")
	}
	return n, nil
}

// checkLimits applies the rules between Limits keys and the others.
func (o *Options) checkLimits(seen map[string]string) error {
	if o.Protocol != "fcgi" {
		for _, k := range fcgiOnlyKeys {
			if _, given := seen[k]; given {
				return usagef("%s= is a FastCGI server limit; with protocol=%s leave it out", k, o.Protocol)
			}
		}
	}
	if _, given := seen["backlog"]; given && o.Method == "prefork" {
		return usagef("backlog= is the threaded pool's queue; with method=prefork, requests wait in the socket's backlog for a worker, use method=threaded")
	}
	if o.BodyBuffer > 0 && o.MaxBody > 0 && o.BodyBuffer > o.MaxBody {
		return usagef("bodybuffer=%d is more than maxbody=%d; want bodybuffer <= maxbody", o.BodyBuffer, o.MaxBody)
	}
	return nil
}
