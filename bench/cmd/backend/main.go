package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/fcgi"
	"os"

	"github.com/appgen/appgen/runtime/ajp"
	"github.com/appgen/appgen/runtime/fastcgi"
	"github.com/appgen/appgen/runtime/runfcgi"
	"github.com/appgen/appgen/runtime/scgi"
)

// Body is the fixed response, the same bytes bench/cmd/canned answers with.
const Body = "Hello, world!\n"

func hello(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, Body)
}

func main() {
	// runfcgi serves the same handler through runtime/runfcgi, as a generated project's
	// "runfcgi" does, so that both process models run it; prefork workers re-execute this
	// binary with the same arguments.
	if len(os.Args) > 1 && os.Args[1] == "runfcgi" {
		os.Exit(runfcgi.Main(os.Args[2:], runfcgi.Site{Handler: http.HandlerFunc(hello)}))
	}
	proto := flag.String("proto", "fcgi", "fcgi, gofcgi, http, scgi or ajp")
	listen := flag.String("listen", "127.0.0.1:9000", "TCP address to listen on")
	secret := flag.String("secret", "", "AJP shared secret (proto=ajp)")
	flag.Parse()
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("backend: %v", err)
	}
	h := http.HandlerFunc(hello)
	// Connection problems are logged but not worth a line per benchmark request.
	quiet := log.New(io.Discard, "", 0)
	switch *proto {
	case "fcgi":
		err = (&fastcgi.Server{Handler: h, ErrorLog: quiet}).Serve(l)
	case "gofcgi":
		err = fcgi.Serve(l, h)
	case "http":
		err = (&http.Server{Handler: h, ErrorLog: quiet}).Serve(l)
	case "scgi":
		err = (&scgi.Server{Handler: h, ErrorLog: quiet}).Serve(l)
	case "ajp":
		err = (&ajp.Server{Handler: h, ErrorLog: quiet, Secret: *secret}).Serve(l)
	default:
		fmt.Fprintf(os.Stderr, "backend: -proto %q, want fcgi, gofcgi, http, scgi or ajp\n", *proto)
		os.Exit(2)
	}
	log.Fatalf("backend: %v", err)
}
