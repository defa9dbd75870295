package middleware_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/appgen/appgen/runtime/middleware"
)

// The seed's HelloWorldApplication(application), in Go: a middleware that answers one path
// itself and hands every other request to the application it wraps.
func helloWorld(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hello" {
			io.WriteString(w, "Hello, world!")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func ExampleChain() {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "the application") })
	quiet := log.New(io.Discard, "", 0)
	h := middleware.Chain(app,
		middleware.Recover(quiet),
		middleware.AllowedHosts([]string{"example.com"}, quiet),
		helloWorld,
	)
	for _, target := range []string{"http://example.com/hello", "http://example.com/", "http://evil.test/"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		fmt.Printf("%s: %d %s\n", target, w.Code, w.Body)
	}
	// Output:
	// http://example.com/hello: 200 Hello, world!
	// http://example.com/: 200 the application
	// http://evil.test/: 400 Bad Request (400)
}

func ExampleRecover() {
	h := middleware.Recover(log.New(io.Discard, "", 0))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("something broke")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	fmt.Print(w.Code, " ", w.Body)
	// Output:
	// 500 500 Internal Server Error
}

func ExampleRequestFinished() {
	h := middleware.RequestFinished(nil, func(f middleware.Finished) {
		fmt.Println("finished:", f.Request.URL.Path, f.Status, f.Written, "bytes")
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The request body is never read or closed: the hook fires all the same.
		io.WriteString(w, "created")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/items", nil))
	// Output:
	// finished: /items 200 7 bytes
}

func ExampleOnFinish() {
	h := middleware.RequestFinished(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("connection opened")
		middleware.OnFinish(r, func(middleware.Finished) { fmt.Println("connection closed") })
		fmt.Println("handler done")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	// Output:
	// connection opened
	// handler done
	// connection closed
}
