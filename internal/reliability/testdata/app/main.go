// Command app is the application the reliability scenarios run as a real process: the
// reliability.Handler served by runtime/runfcgi, as a generated project's "runfcgi" would.
//
//	app runfcgi protocol=fcgi host=127.0.0.1 port=9000 method=prefork daemonize=false
//
// Beside the Handler's paths it answers /crash, which only a process can: it reads the
// request's body and then kills its own process with SIGKILL, as a host that dies while it
// holds a request would, so that a scenario can see whether a web server sends that request
// to another backend.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"syscall"

	"github.com/appgen/appgen/internal/reliability"
	"github.com/appgen/appgen/runtime/runfcgi"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "runfcgi" {
		fmt.Fprintln(os.Stderr, "usage: app runfcgi key=value ...")
		os.Exit(2)
	}
	h := reliability.Handler()
	os.Exit(runfcgi.Main(os.Args[2:], runfcgi.Site{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/crash" {
				_, _ = io.Copy(io.Discard, r.Body)
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // SIGKILL takes the process before any answer goes out
			}
			h.ServeHTTP(w, r)
		}),
		Defaults: runfcgi.Defaults{Protocol: "fcgi", Host: "127.0.0.1", Port: 3033},
	}))
}
