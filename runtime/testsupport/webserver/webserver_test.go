package webserver_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// site returns, per program, a site that serves root (the DocumentRoot) at the root.
func site(p webserver.Program, port int, root string) string {
	switch p {
	case webserver.Nginx:
		return fmt.Sprintf("server {\n    listen 127.0.0.1:%d;\n}\n", port)
	case webserver.Apache:
		return "DirectoryIndex index.html\n"
	case webserver.Cherokee:
		// Cherokee has no main server: the lowest virtual server, "default", is it.
		return "vserver!1!nick = default\nvserver!1!document_root = " + root + "\n" +
			"vserver!1!rule!1!match = default\nvserver!1!rule!1!handler = file\n"
	default:
		return "index-file.names = (\"index.html\")\n"
	}
}

func TestStartServesStaticFile(t *testing.T) {
	for _, p := range webserver.Programs {
		t.Run(string(p), func(t *testing.T) {
			webserver.Require(t, p)
			dir := webserver.TempDir(t)
			port := webserver.FreePort(t)
			c := webserver.Config{Program: p, Dir: dir, Port: port}
			if p == webserver.Nginx {
				// nginx's default root is relative to its prefix: html under Dir.
				c.DocumentRoot = filepath.Join(dir, "html")
			}
			root := c.DocumentRoot
			if root == "" {
				root = filepath.Join(dir, "htdocs")
			}
			c.Site = site(p, port, root)
			if err := os.MkdirAll(root, 0o755); err != nil {
				t.Fatal(err)
			}
			want := "hello from " + string(p) + " \u00e9\n"
			if err := os.WriteFile(filepath.Join(root, "hello.txt"), []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			inst := webserver.Start(t, c)
			resp, err := http.Get(inst.URL + "/hello.txt")
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || string(body) != want {
				t.Fatalf("GET /hello.txt = %d %q, want 200 %q", resp.StatusCode, body, want)
			}
			if err := inst.Stop(); err != nil {
				t.Fatal(err)
			}
			if !inst.Exited() {
				t.Fatal("instance still running after Stop")
			}
		})
	}
}
