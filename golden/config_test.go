package golden

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appgen/appgen/deploy"
	"github.com/appgen/appgen/internal/command"
	"golang.org/x/tools/txtar"
)

// configVariants are, per target, the `appgen config` command lines kept as golden files:
// the default (a unix socket), TCP, several backends, a prefix mount with server names, a
// wildcard server name, and each other protocol the target speaks.
func configVariants(target string) [][]string {
	v := [][]string{{"default"}}
	if deploy.Uses(target, "Backends") {
		v = append(v, []string{"tcp", "--host", "127.0.0.1", "--port", "3033"})
	}
	if deploy.Uses(target, "Listen") {
		v = append(v, []string{"prefix", "--prefix", "/app", "--server-name", "example.com", "--server-name", "www.example.com", "--listen", "8080"},
			[]string{"wildcard", "--server-name", "*.example.com", "--server-name", "example.com"})
	} else {
		v = append(v, []string{"prefix", "--prefix", "/app", "--server-name", "example.com", "--server-name", "www.example.com"})
	}
	switch target {
	case "apache", "nginx", "lighttpd", "cherokee",
		"caddy", "haproxy":
		v = append(v, []string{"balanced", "--backend", "127.0.0.1:3033", "--backend", "127.0.0.1:3034", "--backend", "unix:/run/mysite/3.sock"})
	}
	for _, p := range deploy.ProtocolsFor(target) {
		switch p {
		case "fcgi":
		case "ajp":
			if target == "apache" {
				v = append(v, []string{"ajp", "--protocol", "ajp", "--secret", "s3cr3t"})
			} else {
				v = append(v, []string{"ajp", "--protocol", "ajp"})
			}
			v = append(v, []string{"ajp-prefix", "--protocol", "ajp", "--prefix", "/app"})
		default:
			v = append(v, []string{p, "--protocol", p}, []string{p + "-prefix", "--protocol", p, "--prefix", "/app"})
		}
	}
	// Balanced over each other protocol too, where the failover lines differ per protocol
	// (nginx's scgi_/proxy_next_upstream, Apache's second balancer only for fcgi and http,
	// lighttpd's scgi.balance).
	switch target {
	case "apache", "nginx", "lighttpd":
		for _, p := range deploy.ProtocolsFor(target) {
			if p != "fcgi" {
				v = append(v, []string{p + "-balanced", "--protocol", p, "--backend", "127.0.0.1:3033", "--backend", "127.0.0.1:3034"})
			}
		}
	}
	switch target {
	case "lighttpd", "cherokee", "h2o":
		v = append(v, []string{"spawn", "--spawn"})
	case "systemd":
		v = append(v, []string{"no-socket-unit", "--no-socket-unit"})
	case "kubernetes":
		v = append(v, []string{"images", "--image", "registry.example.com/team/mysite:1.2.0"},
			[]string{"digest", "--image", "registry.example.com/team/mysite:1.2.0@sha256:" + strings.Repeat("0123456789abcdef", 4),
				"--web-image", "registry.example.com/team/mysite-web:1.2.0"})
	case "fcgi":
		v = append(v, []string{"shared-hosting", "--launcher", "/home/user/public_html/mysite.fcgi", "--settings", "shared"})
	}
	return v
}

// runConfig runs appgen config through the real entry point in the current directory and
// returns its standard output.
func runConfig(t *testing.T, args []string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	full := append([]string{"appgen", "config"}, args...)
	if status := command.Execute(command.Build{Version: "v0.0.0-golden"}, nil, full, &stdout, &stderr); status != 0 {
		t.Fatalf("%s: status %d\n%s", strings.Join(full, " "), status, stderr.String())
	}
	return stdout.String()
}

func TestConfigGolden(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, target := range deploy.Targets() {
		t.Run(target, func(t *testing.T) {
			ar := &txtar.Archive{}
			var comment strings.Builder
			fmt.Fprintf(&comment, "appgen config %s, run outside a project with --name mysite --dir /srv/mysite; one file per command line:\n", target)
			for _, v := range configVariants(target) {
				name, flags := v[0], v[1:]
				args := append([]string{target}, flags...)
				// Outside a project, --name and --dir describe one.
				out := runConfig(t, append(args, "--name", "mysite", "--dir", "/srv/mysite"))
				if again := runConfig(t, append(args, "--name", "mysite", "--dir", "/srv/mysite")); again != out {
					t.Errorf("%s: two runs differ", name)
				}
				fmt.Fprintf(&comment, "%s: appgen config %s\n", name, strings.Join(args, " "))
				ar.Files = append(ar.Files, txtar.File{Name: name, Data: []byte(out)})
			}
			ar.Comment = []byte(comment.String())
			CompareArchive(t, filepath.Join(startDir, "testdata", "config", target+".txtar"), ar)
		})
	}
}

// TestConfigGoldenProject reads a project's settings/deploy.go, as `appgen config` does
// when run inside one.
func TestConfigGoldenProject(t *testing.T) {
	golden := filepath.Join(startDir, "testdata", "config", "project.txtar")
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/shop\n\ngo 1.24\n",
		"settings/deploy.go": "package settings\n\nconst (\n\tProjectName = \"shop\"\n\tProtocol    = \"scgi\"\n" +
			"\tHost        = \"127.0.0.1\"\n\tPort        = 4000\n\tSocket      = \"\"\n\tStaticURL   = \"/assets/\"\n\tStaticRoot  = \"public\"\n)\n",
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	ar := &txtar.Archive{Comment: []byte("appgen config run inside a project whose settings/deploy.go says scgi on 127.0.0.1:4000,\n" +
		"static files /assets/ from public; --dir gives the directory it has on the server.\n")}
	for _, v := range [][]string{
		{"nginx", "nginx", "--dir", "/srv/shop"},
		{"systemd", "systemd", "--dir", "/srv/shop"},
		{"nginx-port", "nginx", "--dir", "/srv/shop", "--port", "4001"},
		// Issue 10: under a prefix, static files stay where the project's pages link them.
		{"nginx-prefix", "nginx", "--dir", "/srv/shop", "--prefix", "/app"},
	} {
		ar.Files = append(ar.Files, txtar.File{Name: v[0], Data: []byte(runConfig(t, v[1:]))})
	}
	CompareArchive(t, golden, ar)
}

// startDir is the package directory: the tests change directory, and the golden files are
// found from where the package started.
var startDir = func() string {
	d, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return d
}()
