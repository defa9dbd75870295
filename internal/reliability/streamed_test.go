package reliability

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// TestStreamedBodyThroughNginx is scenario 12 (issue 14 §4): through nginx with
// fastcgi_request_buffering off, a chunked POST reaches the backend as STDIN with an empty
// CONTENT_LENGTH. The old server answered as if the body were empty (no error anywhere); the
// body is what STDIN carries up to its end record.
func TestStreamedBodyThroughNginx(t *testing.T) {
	webserver.Require(t, webserver.Nginx)
	s := start(t, protocolNamed(t, "fastcgi"), Handler(), limits{})
	_, port, err := net.SplitHostPort(s.addr)
	if err != nil {
		t.Fatal(err)
	}
	var backend int
	fmt.Sscan(port, &backend)
	web := webserver.FreePort(t)
	inst := webserver.Start(t, webserver.Config{Program: webserver.Nginx, Dir: webserver.TempDir(t), Port: web,
		Site: nginxFastCGISite(web, backend, "fastcgi_request_buffering off;", "client_max_body_size 10m;")})

	body := make([]byte, 300_000)
	if _, err := rand.Read(body); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	want := fmt.Sprintf("%d %s\n", len(body), hex.EncodeToString(sum[:]))
	client := &http.Client{Timeout: 30 * time.Second}
	for _, tt := range []struct {
		name string
		body func() io.Reader
	}{
		// io.MultiReader hides the length, so net/http sends the body chunked.
		{"chunked", func() io.Reader { return io.MultiReader(bytes.NewReader(body)) }},
		{"with Content-Length", func() io.Reader { return bytes.NewReader(body) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := client.Post(inst.URL+"/body", "application/octet-stream", tt.body())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || string(got) != want {
				t.Errorf("%s POST of %d bytes through nginx (fastcgi_request_buffering off): %d %q, want 200 %q",
					tt.name, len(body), resp.StatusCode, strings.TrimSpace(string(got)), strings.TrimSpace(want))
			}
		})
	}
}
