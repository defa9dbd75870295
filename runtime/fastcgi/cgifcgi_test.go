package fastcgi

import (
	"bytes"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/appgen/appgen/runtime/gateway"
	"github.com/appgen/appgen/runtime/testsupport/logbuf"
)

// needProgram returns the path of a program the test needs; it skips the
// test when the program is missing, except under CI=true, where a missing
// program is a failure.
func needProgram(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (Debian package libfcgi-bin): %v", name, err)
		}
		t.Skipf("%s not found (Debian package libfcgi-bin); skipping", name)
	}
	return p
}

// TestCGIFCGI runs libfcgi's cgi-fcgi, a real FastCGI client, against the
// server on a loopback port and on a unix socket.
func TestCGIFCGI(t *testing.T) {
	prog := needProgram(t, "cgi-fcgi")
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("X-Script-Name", gateway.ScriptName(r))
		io.WriteString(w, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+" "+strconv.Itoa(len(b))+" ")
		w.Write(b[:min(len(b), 20)])
	})
	unixDir := t.TempDir()
	listeners := map[string]func() (net.Listener, string){
		"tcp": func() (net.Listener, string) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			return l, l.Addr().String()
		},
		"unix": func() (net.Listener, string) {
			path := filepath.Join(unixDir, "fcgi.sock")
			l, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			return l, path
		},
	}
	bigBody := strings.Repeat("0123456789", 300<<10/10) // spilled to a file
	tests := []struct {
		name     string
		env      []string
		body     string
		wantBody string
	}{
		{"GET", []string{"REQUEST_METHOD=GET", "REQUEST_URI=/app/hello?x=1", "SCRIPT_NAME=/app", "QUERY_STRING=x=1"}, "", "GET /hello?x=1 0 "},
		{"POST", []string{"REQUEST_METHOD=POST", "REQUEST_URI=/form", "CONTENT_LENGTH=11"}, "hello world", "POST /form? 11 hello world"},
		{"large POST", []string{"REQUEST_METHOD=POST", "REQUEST_URI=/up", "CONTENT_LENGTH=" + strconv.Itoa(len(bigBody))}, bigBody, "POST /up? " + strconv.Itoa(len(bigBody)) + " 01234567890123456789"},
	}
	for netName, listen := range listeners {
		t.Run(netName, func(t *testing.T) {
			l, addr := listen()
			var logs logbuf.Buffer
			srv := &Server{Handler: handler, ErrorLog: log.New(&logs, "", 0), TempDir: t.TempDir()}
			done := make(chan error, 1)
			go func() { done <- srv.Serve(l) }()
			defer func() {
				srv.Close()
				<-done
			}()
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					cmd := exec.Command(prog, "-bind", "-connect", addr)
					cmd.Env = tt.env
					cmd.Stdin = strings.NewReader(tt.body)
					var stderr bytes.Buffer
					cmd.Stderr = &stderr
					out, err := cmd.Output()
					if err != nil {
						t.Fatalf("cgi-fcgi: %v; stderr %q", err, stderr.String())
					}
					head, body, ok := strings.Cut(string(out), "\r\n\r\n")
					if !ok || !strings.HasPrefix(head, "Status: 200 OK\r\n") {
						t.Fatalf("cgi-fcgi printed %q", out)
					}
					if tt.name == "GET" && !strings.Contains(head, "\r\nX-Script-Name: /app") {
						t.Errorf("header %q lacks the script name /app", head)
					}
					if body != tt.wantBody {
						t.Errorf("body %q, want %q", body, tt.wantBody)
					}
				})
			}
			if logs.String() != "" {
				t.Errorf("server logged %q", logs.String())
			}
		})
	}
}
