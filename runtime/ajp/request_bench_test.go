package ajp

import (
	"context"
	"net/http"
	"testing"
)

// BenchmarkRequest measures what a FORWARD_REQUEST costs before the
// handler runs: decoding the packet and building the *http.Request, for a
// browser-like GET as mod_proxy_ajp sends it. BenchmarkNewRequest in
// runtime/gateway is the same step for FastCGI and SCGI.
func BenchmarkRequest(b *testing.B) {
	f := get("/app/hello")
	f.protocol = "HTTP/1.1"
	f.headers = append(f.headers,
		hdr{code: 0xA00E, value: "Mozilla/5.0 (X11; Linux x86_64)"},
		hdr{code: 0xA001, value: "text/html,application/xhtml+xml"},
		hdr{code: 0xA003, value: "gzip, deflate"},
		hdr{name: "Accept-Language", value: "en"})
	f.attrs = []attr{{code: attrReqAttr, name: "AJP_REMOTE_PORT", value: "51234"}, {code: attrQueryString, value: "name=x"}}
	p := f.payload()
	script := "/app"
	var fr forwardRequest
	b.ReportAllocs()
	for b.Loop() {
		if err := fr.decode(p); err != nil {
			b.Fatal(err)
		}
		r, err := fr.httpRequest(context.Background(), http.NoBody, script)
		if err != nil {
			b.Fatal(err)
		}
		if r.URL.Path != "/hello" {
			b.Fatalf("path %q", r.URL.Path)
		}
	}
}
