package gateway_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/appgen/appgen/runtime/gateway"
)

// A handler mounted at /blog builds its links with the public prefix, so
// they stay right whatever prefix the web server mounts it at. The test
// gives the request its prefix as the protocol servers would.
func ExampleScriptName() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s is at %s; next: %s/posts/2", r.URL.Path, gateway.ScriptName(r), gateway.ScriptName(r))
	})
	r := gateway.WithScriptName(httptest.NewRequest("GET", "/posts/1", nil), "/blog/")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Body.String())
	// Output:
	// /posts/1 is at /blog; next: /blog/posts/2
}
