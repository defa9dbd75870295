package middleware

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkChain measures what the generated project's chain adds to a request, against the
// bare handler in the same run.
func BenchmarkChain(b *testing.B) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	quiet := log.New(io.Discard, "", log.LstdFlags)
	cases := []struct {
		name string
		h    http.Handler
	}{
		{"bare", app},
		{"Logger", Logger(quiet)(app)},
		{"Recover", Recover(quiet)(app)},
		{"AllowedHosts", AllowedHosts([]string{".localhost", "127.0.0.1", "[::1]"}, quiet)(app)},
		{"RequestFinished", RequestFinished(quiet, func(Finished) {})(app)},
		{"project chain", Chain(app, RequestFinished(quiet, func(Finished) {}), Logger(quiet), Recover(quiet),
			AllowedHosts([]string{".localhost", "127.0.0.1", "[::1]"}, quiet))},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/hello", nil)
			r.Host = "localhost:8000"
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				c.h.ServeHTTP(w, r)
			}
		})
	}
}

// discardWriter keeps the benchmark about the middleware, not about recording responses.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkChainHTTP puts the same handlers behind a real loopback net/http server, where the
// chain's cost is to be judged: against a whole request's.
func BenchmarkChainHTTP(b *testing.B) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	quiet := log.New(io.Discard, "", log.LstdFlags)
	cases := []struct {
		name string
		h    http.Handler
	}{
		{"bare", app},
		{"project chain", Chain(app, RequestFinished(quiet, func(Finished) {}), Logger(quiet), Recover(quiet),
			AllowedHosts([]string{".localhost", "127.0.0.1", "[::1]"}, quiet))},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			srv := httptest.NewServer(c.h)
			defer srv.Close()
			client := srv.Client()
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Get(srv.URL + "/hello")
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
