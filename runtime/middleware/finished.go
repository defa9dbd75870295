package middleware

import (
	"context"
	"log"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"
	"time"
)

// Finished describes a request whose response is complete, for request-finished hooks.
type Finished struct {
	// Request is the request as RequestFinished received it.
	Request *http.Request
	// Status is the response status. It is 200 when the handler returned without writing
	// anything (the server then sends 200), and 0 when it panicked before writing anything.
	Status int
	// Written counts the body bytes the handlers wrote.
	Written int64
	// Duration is the time from RequestFinished receiving the request to the hooks running.
	Duration time.Duration
	// Panicked is true when a panic is going through RequestFinished: the hooks run while it
	// unwinds, and it goes on outwards after them.
	Panicked bool
	// Canceled is true when the request's context was done before the response was complete:
	// the client went away (as far as the server could tell) or a deadline expired.
	Canceled bool
}

type finishKey struct{}

// finishState is one request's pending hooks. OnFinish may be called from any goroutine the
// handler starts, so it is guarded.
type finishState struct {
	mu    sync.Mutex
	done  bool
	hooks []func(Finished)
}

// RequestFinished calls each hook exactly once per request, after the handlers it wraps have
// returned: the response is then complete as far as the application is concerned (the server
// may still be sending its last buffered bytes). The hooks run even when the request body was
// never read or closed, when a handler panicked and when the client went away; see the package
// documentation for why this is the Go form of Django's request_finished signal.
//
// Hooks registered for the request with OnFinish run first, the last registered first (like
// deferred calls, so later resources are released before the ones they depend on), then hooks in
// the order given. A hook that panics is logged with its stack to errorLog (nil means
// log.Default()) and the other hooks still run. Hooks run on the request's goroutine, before the
// server reuses the connection, so slow work belongs in a goroutine of the hook's own.
func RequestFinished(errorLog *log.Logger, hooks ...func(Finished)) Middleware {
	if errorLog == nil {
		errorLog = log.Default()
	}
	hooks = slices.Clone(hooks)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			state := &finishState{}
			r = r.WithContext(context.WithValue(r.Context(), finishKey{}, state))
			rec := record(w)
			returned := false
			// A deferred call without recover: it runs on return and on panic alike, and a panic
			// keeps its original stack for whoever recovers it further out.
			defer func() {
				status := int(rec.status)
				if status == 0 && returned {
					status = http.StatusOK
				}
				f := Finished{
					Request:  r,
					Status:   status,
					Written:  rec.written,
					Duration: time.Since(start),
					Panicked: !returned,
					Canceled: r.Context().Err() != nil,
				}
				state.mu.Lock()
				state.done = true
				pending := state.hooks
				state.hooks = nil
				state.mu.Unlock()
				for i := len(pending) - 1; i >= 0; i-- {
					runHook(errorLog, pending[i], f)
				}
				for _, hook := range hooks {
					runHook(errorLog, hook, f)
				}
			}()
			next.ServeHTTP(rec, r)
			returned = true
		})
	}
}

func runHook(errorLog *log.Logger, hook func(Finished), f Finished) {
	defer func() {
		if v := recover(); v != nil {
			errorLog.Printf("middleware: panic in request-finished hook for %s %s: %v\n%s", f.Request.Method, f.Request.URL.Path, v, debug.Stack())
		}
	}()
	hook(f)
}

// OnFinish registers fn to run when r's response is complete, as a RequestFinished hook for this
// request only: the place to release what a handler acquired for the request (a database
// connection, a temporary file) whatever happens to the response. It reports false, and does not
// keep fn, when no RequestFinished wraps the handler that r was given to or when the request
// has already finished.
func OnFinish(r *http.Request, fn func(Finished)) bool {
	state, ok := r.Context().Value(finishKey{}).(*finishState)
	if !ok {
		return false
	}
	state.mu.Lock()
	defer state.mu.Unlock()
	if state.done {
		return false
	}
	state.hooks = append(state.hooks, fn)
	return true
}
