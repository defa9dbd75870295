package main

import (
	"fmt"
	"log"
	"os"
)

// runner lets a case use runtime/testsupport/webserver's test helpers outside a test: it satisfies
// webserver.TB, turning Fatalf and Skipf into a failure of that case alone, and running the
// cleanups (stopping servers, removing directories) when the case ends.
type runner struct {
	name     string
	cleanups []func()
	failed   bool
}

// caseFailed carries a Fatalf or Skipf message from deep inside a helper to runCase.
type caseFailed struct{ msg string }

func (r *runner) Helper()          {}
func (r *runner) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *runner) Failed() bool     { return r.failed }
func (r *runner) Fatalf(format string, args ...any) {
	r.failed = true
	panic(caseFailed{fmt.Sprintf(format, args...)})
}
func (r *runner) Skipf(format string, args ...any) { r.Fatalf(format, args...) }
func (r *runner) Logf(format string, args ...any) {
	log.Printf("%s: %s", r.name, fmt.Sprintf(format, args...))
}
func (r *runner) TempDir() string {
	dir, err := os.MkdirTemp("", "benchrun-")
	if err != nil {
		r.Fatalf("benchrun: %v", err)
	}
	r.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// runCase runs fn with a fresh runner and returns the failure it reported, if any.
func runCase(name string, fn func(r *runner)) (err error) {
	r := &runner{name: name}
	defer func() {
		if p := recover(); p != nil {
			cf, ok := p.(caseFailed)
			if !ok {
				panic(p)
			}
			err = fmt.Errorf("%s: %s", name, cf.msg)
		}
		for i := len(r.cleanups) - 1; i >= 0; i-- {
			r.cleanups[i]()
		}
	}()
	fn(r)
	return nil
}
