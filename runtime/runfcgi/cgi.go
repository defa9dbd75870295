package runfcgi

import (
	"fmt"
	"net/http"
	"net/http/cgi"
	"os"
	"strings"

	"github.com/appgen/appgen/runtime/internal/gateway"
)

// serveCGI answers the one CGI request this process was started for: what
// a shared host does with mysite.fcgi when FastCGI is not set up for it.
// net/http/cgi reads the body and writes the CGI response; the request the
// handler sees is mapped by gateway, as under FastCGI and SCGI, so paths and
// the script name do not change with the way the site is deployed.
func serveCGI(h http.Handler, forceScriptName *string) error {
	cfg := &gateway.Config{ForceScriptName: forceScriptName}
	err := cgi.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := gateway.NewRequestContext(r.Context(), environ(), r.Body, cfg)
		if err != nil {
			fmt.Fprintf(os.Stderr, "runfcgi: CGI request: %v\n", err)
			http.Error(w, "400 Bad Request", http.StatusBadRequest)
			return
		}
		h.ServeHTTP(w, req)
	}))
	if err != nil {
		return fmt.Errorf("runfcgi: serving a CGI request (GATEWAY_INTERFACE=%s): %w", os.Getenv("GATEWAY_INTERFACE"), err)
	}
	return nil
}

func environ() []gateway.Param {
	env := os.Environ()
	params := make([]gateway.Param, 0, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			params = append(params, gateway.Param{Name: k, Value: v})
		}
	}
	return params
}
