// Command echoapp serves peertest.Handler (Echo, mostly) through runtime/runfcgi, for the web servers that spawn
// their application themselves (mod_fcgid): with no host, port or socket, runfcgi serves on the
// socket it finds on fd 0.
//
//	echoapp runfcgi method=threaded
package main

import (
	"fmt"
	"net/http"
	"os"

	"github.com/appgen/appgen/internal/peertest"
	"github.com/appgen/appgen/runtime/runfcgi"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "runfcgi" {
		fmt.Fprintln(os.Stderr, "usage: echoapp runfcgi key=value ...")
		os.Exit(2)
	}
	os.Exit(runfcgi.Main(os.Args[2:], runfcgi.Site{
		Handler:  http.HandlerFunc(peertest.Handler),
		Defaults: runfcgi.Defaults{Protocol: "fcgi", Host: "127.0.0.1", Port: 3033},
	}))
}
