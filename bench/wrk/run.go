package wrk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"time"
)

// Options is one wrk run.
type Options struct {
	// URL is the target; required.
	URL string
	// Threads is wrk's -t; 0 means 2 (one per core on the benchmark machine).
	Threads int
	// Conns is wrk's -c; 0 means 32.
	Conns int
	// Duration is wrk's -d; 0 means 10 s.
	Duration time.Duration
	// Timeout is wrk's --timeout for one request; 0 means 5 s.
	Timeout time.Duration
	// Headers are sent with every request as "Name: value"; nil sends none.
	Headers []string
}

// Run runs wrk with --latency and parses its report. A run with non-2xx responses or socket
// errors is still a Result, not an error: callers decide what to make of them.
func Run(ctx context.Context, o Options) (Result, string, error) {
	if o.URL == "" {
		return Result{}, "", errors.New("wrk: Options.URL is empty, want a URL")
	}
	if o.Threads == 0 {
		o.Threads = 2
	}
	if o.Conns == 0 {
		o.Conns = 32
	}
	if o.Duration == 0 {
		o.Duration = 10 * time.Second
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	args := []string{
		"-t", strconv.Itoa(o.Threads), "-c", strconv.Itoa(o.Conns),
		"-d", strconv.Itoa(int(o.Duration.Seconds())) + "s",
		"--timeout", strconv.Itoa(int(o.Timeout.Seconds())) + "s", "--latency",
	}
	for _, h := range o.Headers {
		args = append(args, "-H", h)
	}
	args = append(args, o.URL)
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, "wrk", args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return Result{}, out.String(), fmt.Errorf("wrk %s: %w: %s", o.URL, err, bytes.TrimSpace(errb.Bytes()))
	}
	res, err := Parse(out.String())
	return res, out.String(), err
}
