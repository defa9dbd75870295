// Command app is the application the reliability scenarios run as a real process: the
// reliability.Handler served by runtime/runfcgi, as a generated project's "runfcgi" would.
//
//	app runfcgi protocol=fcgi host=127.0.0.1 port=9000 method=prefork daemonize=false
package main

import (
	"fmt"
	"os"

	"github.com/appgen/appgen/internal/reliability"
	"github.com/appgen/appgen/runtime/runfcgi"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "runfcgi" {
		fmt.Fprintln(os.Stderr, "usage: app runfcgi key=value ...")
		os.Exit(2)
	}
	os.Exit(runfcgi.Main(os.Args[2:], runfcgi.Site{
		Handler:  reliability.Handler(),
		Defaults: runfcgi.Defaults{Protocol: "fcgi", Host: "127.0.0.1", Port: 3033},
	}))
}
