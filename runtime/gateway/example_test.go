package gateway_test

import (
	"fmt"
	"log"

	"github.com/appgen/appgen/runtime/gateway"
)

// What lighttpd sends for /mysite.fcgi mounted at /blog, after a rewrite:
// the handler sees the path inside the application, and builds links with
// the public prefix.
func ExampleScriptName() {
	r, err := gateway.NewRequest([]gateway.Param{
		{Name: "REQUEST_METHOD", Value: "GET"},
		{Name: "REQUEST_URI", Value: "/blog/posts/1?page=2"},
		{Name: "SCRIPT_NAME", Value: "/blog"},
		{Name: "PATH_INFO", Value: "/posts/1"},
		{Name: "QUERY_STRING", Value: "page=2"},
		{Name: "HTTP_HOST", Value: "example.com"},
	}, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.URL.Path)
	fmt.Println(r.RequestURI)
	fmt.Println(gateway.ScriptName(r) + "/posts/2")
	// Output:
	// /posts/1
	// /blog/posts/1?page=2
	// /blog/posts/2
}
