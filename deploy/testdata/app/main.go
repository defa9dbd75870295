// Command app stands in for a generated project's binary in the e2e tests: `app runfcgi
// key=value…` runs the real runfcgi with a handler that reports what it saw, so the tests
// can check the script name, path, query and body the application receives, its pid, and
// a value that changes whenever a new process image starts (after the launcher is touched).
//
// A query parameter sleep=DURATION makes the handler wait that long (at most 1s) before it
// answers, so that load tests keep requests in flight at the same time.
//
// APP_SCRIPT_NAME, when set, is the project's ForceScriptName; APP_LABEL tells two apps apart.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/appgen/appgen/runtime/gateway"
	"github.com/appgen/appgen/runtime/runfcgi"
)

// boot tells process images apart: runfcgi may restart by re-executing itself, pid kept.
var boot = strconv.FormatInt(time.Now().UnixNano(), 36)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "runfcgi" {
		fmt.Fprintln(os.Stderr, "usage: app runfcgi [key=value ...]")
		os.Exit(2)
	}
	site := runfcgi.Site{
		Handler:  http.HandlerFunc(report),
		Defaults: runfcgi.Defaults{Protocol: "fcgi", Host: "127.0.0.1", Port: 3033},
	}
	if v, ok := os.LookupEnv("APP_SCRIPT_NAME"); ok {
		site.ForceScriptName = &v
	}
	os.Exit(runfcgi.Main(os.Args[2:], site))
}

func report(w http.ResponseWriter, r *http.Request) {
	if d, err := time.ParseDuration(r.URL.Query().Get("sleep")); err == nil && d > 0 && d <= time.Second {
		time.Sleep(d)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "app script_name=%s\n", gateway.ScriptName(r))
	fmt.Fprintf(w, "app path=%s\n", r.URL.Path)
	fmt.Fprintf(w, "app request_uri=%s\n", r.RequestURI)
	fmt.Fprintf(w, "app query=%s\n", r.URL.RawQuery)
	fmt.Fprintf(w, "app method=%s\n", r.Method)
	fmt.Fprintf(w, "app body=%s\n", body)
	fmt.Fprintf(w, "app pid=%d\n", os.Getpid())
	fmt.Fprintf(w, "app boot=%s\n", boot)
	fmt.Fprintf(w, "app label=%s\n", os.Getenv("APP_LABEL"))
	fmt.Fprintf(w, "app settings=%s\n", os.Getenv("APPGEN_SETTINGS"))
}
