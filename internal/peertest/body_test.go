package peertest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// TestSCGIChunkedBodyUnbuffered is issue 14's scenario for SCGI: nginx with
// scgi_request_buffering off and a chunked 300,000-byte POST. The handler must get the
// whole body. nginx 1.22 buffers a chunked body for SCGI whatever the directive says (its
// scgi module always sends CONTENT_LENGTH), so this pins the path through nginx; the body
// without CONTENT_LENGTH that another server may send is TestBodyWithoutContentLength in
// runtime/scgi.
func TestSCGIChunkedBodyUnbuffered(t *testing.T) {
	webserver.Require(t, webserver.Nginx)
	backend, _ := startBackend(t, "scgi", "", false)
	dir := webserver.TempDir(t)
	web := webserver.FreePort(t)
	site, err := rendered("nginx", "scgi", "scgi_request_buffering off;\n")(dir, web, backend, "")
	if err != nil {
		t.Fatal(err)
	}
	inst := webserver.Start(t, webserver.Config{Program: webserver.Nginx, Dir: dir, Port: web, Site: site})

	const size = 300_000
	upload := make([]byte, size)
	if _, err := rand.Read(upload); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(upload)
	// A reader without a length, and ContentLength -1: net/http sends it chunked.
	body := struct{ io.Reader }{bytes.NewReader(upload)}
	req, err := http.NewRequest("POST", inst.URL+prefix+"/upload", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d, want 200; body:\n%s", resp.StatusCode, data)
	}
	var rec Received
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatalf("the answer is not Echo's JSON: %v\n%s", err, data)
	}
	if rec.BodyLen != size || rec.BodySHA256 != hex.EncodeToString(sum[:]) || rec.BodyErr != "" {
		t.Errorf("the handler read %d bytes (sha256 %.12s…, error %q), want %d (%.12s…)",
			rec.BodyLen, rec.BodySHA256, rec.BodyErr, size, hex.EncodeToString(sum[:]))
	}
}
