package reliability

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

// Body is what Handler answers on "/": small and fixed, like the benchmarks' handler.
const Body = "Hello, world!\n"

// MaxSleep bounds /sleep, so no request the scenarios send can hold a worker for long.
const MaxSleep = 10 * time.Second

// PidHeader is the response header in which Handler names the process that answered, so that
// a load run through a balancer can count what each backend served.
const PidHeader = "X-App-Pid"

// Handler is the application every scenario serves (every answer carries PidHeader):
//
//	/          Body, 200
//	/panic     panics (the server must answer 500 and keep serving)
//	/sleep?ms=N  sleeps N milliseconds (at most MaxSleep), then 200 "slept"; with &flush=1 it
//	             sends the status and headers first, so a client can see the request has begun
//	/pid       the serving process's pid, so a scenario can tell prefork workers apart
//	/body      reads the body and answers "LEN SHA256"
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, Body)
	})
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) {
		panic("reliability: /panic was asked to panic")
	})
	mux.HandleFunc("/sleep", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 {
			http.Error(w, "reliability: /sleep needs ms=N, N >= 0", http.StatusBadRequest)
			return
		}
		d := min(time.Duration(ms)*time.Millisecond, MaxSleep)
		if r.URL.Query().Get("flush") == "1" {
			w.WriteHeader(http.StatusOK)
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		}
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "slept\n")
	})
	mux.HandleFunc("/pid", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d\n", os.Getpid())
	})
	mux.HandleFunc("/body", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, "reliability: reading the body: "+err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d %s\n", n, hex.EncodeToString(h.Sum(nil)))
	})
	pid := strconv.Itoa(os.Getpid())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(PidHeader, pid)
		mux.ServeHTTP(w, r)
	})
}
