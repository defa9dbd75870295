package scgi_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/appgen/appgen/runtime/gateway"
	"github.com/appgen/appgen/runtime/scgi"
)

func ExampleServer() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &scgi.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s under %q\n", r.Method, r.URL.Path, gateway.ScriptName(r))
	})}
	go srv.Serve(l)
	defer srv.Close()

	// What nginx's scgi_pass sends for GET /app/hello, with SCRIPT_NAME set.
	var vars strings.Builder
	for _, s := range []string{"CONTENT_LENGTH", "0", "SCGI", "1", "REQUEST_METHOD", "GET",
		"REQUEST_URI", "/app/hello", "SCRIPT_NAME", "/app", "SERVER_PROTOCOL", "HTTP/1.1"} {
		vars.WriteString(s + "\x00")
	}
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "%s:%s,", strconv.Itoa(vars.Len()), vars.String())
	resp, _ := io.ReadAll(c)
	fmt.Print(strings.ReplaceAll(string(resp), "\r\n", "\n"))
	// Output:
	// Status: 200 OK
	// Content-Type: text/plain; charset=utf-8
	// Content-Length: 24
	//
	// GET /hello under "/app"
}
