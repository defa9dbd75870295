// Command backend serves the benchmarks' handler (a small fixed response) over one protocol, so
// that bench/run can put each server behind nginx or Apache with exactly the same handler:
//
//	backend -proto fcgi   -listen 127.0.0.1:9000   appgen's runtime/fastcgi
//	backend -proto gofcgi -listen 127.0.0.1:9000   Go's net/http/fcgi
//	backend -proto http   -listen 127.0.0.1:9000   net/http
//	backend -proto scgi   -listen 127.0.0.1:9000   appgen's runtime/scgi
//	backend -proto ajp    -listen 127.0.0.1:9000 -secret S   appgen's runtime/ajp
//	backend runfcgi key=value ...                   runtime/runfcgi (method=threaded or prefork)
//
// The servers run with their defaults (the threaded model: a goroutine per request), and
// listen until killed.
package main
