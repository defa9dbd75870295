package peertest

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/fastcgi"
	"github.com/appgen/appgen/runtime/scgi"
	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// serveHandler serves h with proto ("fcgi" or "scgi") on a loopback port until the test ends.
func serveHandler(t *testing.T, proto string, h http.Handler) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logger := log.New(testLogWriter{t}, "", 0)
	var srv backendServer
	switch proto {
	case "fcgi":
		srv = &fastcgi.Server{Handler: h, ErrorLog: logger}
	case "scgi":
		srv = &scgi.Server{Handler: h, ErrorLog: logger}
	default:
		t.Fatalf("unknown backend protocol %q", proto)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("%s backend: Serve returned %v, want http.ErrServerClosed", proto, err)
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// TestGatewayHeadersThroughApache pins issue 14: a handler's own Status header reached Apache
// after the runtime's status line, and Apache answered with it; a 200 carrying a local
// Location was served by mod_proxy_scgi as an internal redirect to that path. Through
// net/http's server both are plain headers of a 200, and so they must be here.
func TestGatewayHeadersThroughApache(t *testing.T) {
	// Routed on the client's URI, which every gateway passes as it is.
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.RequestURI {
		case prefix + "/status":
			w.Header().Set("Status", "404 Not Found")
			io.WriteString(w, "the handler's page")
		case prefix + "/location":
			w.Header().Set("Location", prefix+"/elsewhere")
			io.WriteString(w, "the handler's page")
		case prefix + "/redirect":
			http.Redirect(w, r, prefix+"/elsewhere", http.StatusFound)
		default:
			io.WriteString(w, "another page")
		}
	})
	for _, proto := range []string{"scgi", "fcgi"} {
		t.Run("mod_proxy_"+proto, func(t *testing.T) {
			webserver.Require(t, webserver.Apache)
			backend := serveHandler(t, proto, mux)
			dir := webserver.TempDir(t)
			web := webserver.FreePort(t)
			site := apacheProxy(proto, prefix+"/", "", "")(web, backend, "")
			inst := webserver.Start(t, webserver.Config{Program: webserver.Apache, Dir: dir, Port: web, Site: site})
			client := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			}}
			tests := []struct {
				path, wantBody, wantLocation string
				wantStatus                   int
			}{
				{"/status", "the handler's page", "", 200},
				{"/location", "the handler's page", "", 200},
				{"/redirect", "", "/app/elsewhere", 302},
			}
			for _, tt := range tests {
				t.Run(tt.path, func(t *testing.T) {
					resp, err := client.Get(inst.URL + prefix + tt.path)
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != tt.wantStatus {
						t.Errorf("status %d, want %d (body %.60q)", resp.StatusCode, tt.wantStatus, body)
					}
					if tt.wantBody != "" && string(body) != tt.wantBody {
						t.Errorf("body %.60q, want %q", body, tt.wantBody)
					}
					if got := resp.Header.Get("Location"); got != tt.wantLocation {
						t.Errorf("Location %q, want %q", got, tt.wantLocation)
					}
				})
			}
		})
	}
}
