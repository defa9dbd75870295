package gateway

import (
	"net/http"

	"github.com/appgen/appgen/runtime/internal/request"
)

// ScriptName returns the public mount prefix of r's application, without a
// trailing slash; "" when the application is mounted at the root or r was not
// made by a protocol server of this runtime (nor by WithScriptName).
func ScriptName(r *http.Request) string { return request.ScriptName(r) }

// WithScriptName returns a shallow copy of r whose ScriptName is name, with
// trailing slashes removed. Middleware that mounts an application under a
// prefix uses it, and so do tests of handlers.
func WithScriptName(r *http.Request, name string) *http.Request {
	return request.WithScriptName(r, name)
}
