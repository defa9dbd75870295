package webserver_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// site returns, per program, a site that serves DocumentRoot at the root.
func site(p webserver.Program, port int) string {
	switch p {
	case webserver.Nginx:
		return fmt.Sprintf("server {\n    listen 127.0.0.1:%d;\n}\n", port)
	case webserver.Apache:
		return "DirectoryIndex index.html\n"
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
			c := webserver.Config{Program: p, Dir: dir, Port: port, Site: site(p, port)}
			if p == webserver.Nginx {
				// nginx's default root is relative to its prefix: html under Dir.
				c.DocumentRoot = filepath.Join(dir, "html")
			}
			root := c.DocumentRoot
			if root == "" {
				root = filepath.Join(dir, "htdocs")
			}
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

func TestCheckRejectsBadSite(t *testing.T) {
	bad := map[webserver.Program]string{
		webserver.Nginx:    "server { listen 127.0.0.1:1; no_such_directive on; }\n",
		webserver.Apache:   "NoSuchDirective on\n",
		webserver.Lighttpd: "server.document-root = \n",
	}
	for _, p := range webserver.Programs {
		t.Run(string(p), func(t *testing.T) {
			webserver.Require(t, p)
			dir := webserver.TempDir(t)
			err := webserver.Check(webserver.Config{Program: p, Dir: dir, Port: webserver.FreePort(t), Site: bad[p]})
			if !errors.Is(err, webserver.ErrCheck) {
				t.Fatalf("Check(bad site) = %v, want an error wrapping ErrCheck", err)
			}
		})
	}
}

func TestMainConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		c    webserver.Config
		want string
	}{
		{"unknown program", webserver.Config{Program: "httpd", Dir: dir, Port: 80}, `unknown program "httpd"`},
		{"relative dir", webserver.Config{Program: webserver.Nginx, Dir: "rel", Port: 80}, "must be an absolute path"},
		{"missing dir", webserver.Config{Program: webserver.Nginx, Dir: filepath.Join(dir, "nope"), Port: 80}, "does not exist"},
		{"port", webserver.Config{Program: webserver.Apache, Dir: dir, Port: 70000}, "port 70000 out of range"},
		{"apache module", webserver.Config{Program: webserver.Apache, Dir: dir, Port: 80, Modules: []string{"no_such_thing"}}, `apache module "no_such_thing" is not installed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := webserver.MainConfig(tt.c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("MainConfig() error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestMainConfigKeepsPathsInDir(t *testing.T) {
	dir := t.TempDir()
	for _, p := range webserver.Programs {
		t.Run(string(p), func(t *testing.T) {
			text, err := webserver.MainConfig(webserver.Config{Program: p, Dir: dir, Port: 8080})
			if err != nil {
				t.Fatal(err)
			}
			for _, system := range []string{"/var/", "/run/"} {
				if strings.Contains(text, system) {
					t.Errorf("main config mentions %s:\n%s", system, text)
				}
			}
			if !strings.Contains(text, dir+"/error.log") {
				t.Errorf("main config does not log errors into %s:\n%s", dir, text)
			}
		})
	}
}
