package fastcgi

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/appgen/appgen/runtime/internal/gateway"
)

// request is one FastCGI request's state, pooled: its buffers, body,
// response writer and STDOUT writer are reused, so that a request costs
// little more than the *http.Request the handler sees.
//
// Until the handler starts, only the connection's reader goroutine touches
// a request. After that, the reader reaches it only under conn.mu (to add
// STDIN or abort it), and the handler's goroutine ends it.
type request struct {
	conn     *conn
	id       uint16
	keepConn bool
	acquired bool // holds a Server request slot

	paramsDone bool // the empty FCGI_PARAMS arrived
	inputDone  bool // the empty FCGI_STDIN arrived
	chunked    bool // STDIN carries a body still in chunked framing
	started    bool // the handler was started
	ended      bool // FCGI_END_REQUEST was written (or the connection died)
	aborted    atomic.Bool

	// The reader's deadlines for the request's input (see setReadDeadline),
	// the zero time until it first waits for it.
	headBy     time.Time // the params must be complete by then
	bodyFrom   time.Time // STDIN began to be waited for
	stdinBytes int64     // STDIN content received

	params []byte // the FCGI_PARAMS stream
	req    *http.Request
	cancel context.CancelFunc

	body body
	rw   gateway.ResponseWriter
	out  stdout
	run  func() // r.serve, made once per pooled request, not per use
}

var requestPool sync.Pool

func init() {
	// Set here, not in requestPool's declaration: serve refers back to the
	// pool, which Go counts as an initialization cycle.
	requestPool.New = func() any {
		r := new(request)
		r.out.req = r
		r.run = r.serve
		return r
	}
}

func newRequest(c *conn, id uint16, keepConn bool) *request {
	r := requestPool.Get().(*request)
	r.conn, r.id, r.keepConn = c, id, keepConn
	r.acquired = false
	r.paramsDone, r.inputDone, r.started, r.ended = false, false, false, false
	r.chunked = false
	r.aborted.Store(false)
	r.headBy, r.bodyFrom, r.stdinBytes = time.Time{}, time.Time{}, 0
	r.params = r.params[:0]
	r.out.buf = r.out.buf[:0]
	return r
}

// free returns r to the pool, dropping buffers that one large request grew.
func (r *request) free() {
	r.body.release()
	if r.cancel != nil {
		r.cancel()
	}
	r.cancel, r.req, r.conn, r.body.starved = nil, nil, nil, nil
	if cap(r.params) > 64<<10 {
		r.params = nil
	}
	if cap(r.body.mem) > 64<<10 {
		r.body.mem = nil
	}
	if cap(r.out.buf) > 64<<10 {
		r.out.buf = nil
	}
	r.rw.Reset(nil, nil, nil)
	requestPool.Put(r)
}

// serve runs the handler and ends the request; it is the task given to
// the Pool (or a new goroutine).
func (r *request) serve() {
	c := r.conn
	defer c.handlers.Done()
	var appStatus uint32
	if c.sc.CallHandler(c.srv.Handler, &r.rw, r.req) {
		// A response already partly sent cannot become a 500; a non-zero
		// application status is all that is left to say it failed.
		if !r.rw.Fail(http.StatusInternalServerError) {
			appStatus = 1
		}
	}
	if !r.aborted.Load() {
		r.rw.Finish()
	}
	c.endRequest(r, appStatus, statusRequestComplete)
}

// stdout wraps what the response writer produces in FCGI_STDOUT records,
// keeping them until the response ends or a flush, so a small response and
// its FCGI_END_REQUEST go to the web server in one write.
type stdout struct {
	req *request
	buf []byte
}

// flushSize is how much STDOUT is kept before it is written.
const flushSize = 32 << 10

func (w *stdout) Write(p []byte) (int, error) {
	if w.req.aborted.Load() {
		return 0, errAborted
	}
	w.buf = appendRecords(w.buf, typeStdout, w.req.id, p)
	if len(w.buf) >= flushSize {
		if err := w.Flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes the records kept so far; the response writer's Flush calls it.
func (w *stdout) Flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	err := w.req.conn.write(w.buf)
	w.buf = w.buf[:0]
	return err
}
