package deploy

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// TestRenderErrors pins that each refused input is a *FieldError naming its Options field
// and saying what the field wants.
func TestRenderErrors(t *testing.T) {
	long := "/" + strings.Repeat("s", MaxSocketPath)
	tests := []struct {
		name  string
		o     Options
		field string
		want  string
	}{
		{"unknown protocol", Options{Target: "nginx", Protocol: "uwsgi"}, "Protocol", `Protocol "uwsgi": want one of fcgi, scgi, ajp, http`},
		{"ajp to lighttpd", Options{Target: "lighttpd", Protocol: "ajp"}, "Protocol", `lighttpd speaks only fcgi, scgi`},
		{"ajp to nginx", Options{Target: "nginx", Protocol: "ajp"}, "Protocol", `nginx speaks only fcgi, scgi, http`},
		{"scgi launcher", Options{Target: "fcgi", Protocol: "scgi"}, "Protocol", `fcgi speaks only fcgi`},
		{"port out of range", Options{Target: "nginx", Backends: []Backend{{Network: "tcp", Address: "127.0.0.1:70000"}}}, "Backends", `Backends[0] port "70000": want a port number 1-65535`},
		{"port zero", Options{Target: "nginx", Backends: []Backend{{Network: "tcp", Address: "127.0.0.1:0"}}}, "Backends", `port "0"`},
		{"socket too long", Options{Target: "nginx", Backends: []Backend{Unix(long)}}, "Backends", "at most the 107 bytes a unix socket path allows"},
		{"relative socket", Options{Target: "nginx", Backends: []Backend{Unix("run/x.sock")}}, "Backends", "want an absolute path"},
		{"two backends for restart", Options{Target: "restart", Backends: []Backend{TCP("127.0.0.1", 1), TCP("127.0.0.1", 2)}}, "Backends", "listens on exactly one address"},
		{"ajp over unix", Options{Target: "apache", Protocol: "ajp", Backends: []Backend{Unix("/run/a.sock")}}, "Backends", "mod_proxy_ajp cannot reach a unix socket"},
		{"prefix with slash", Options{Target: "nginx", Prefix: "/app/"}, "Prefix", `Prefix "/app/"`},
		{"prefix relative", Options{Target: "nginx", Prefix: "app"}, "Prefix", `Prefix "app"`},
		{"static url", Options{Target: "nginx", StaticURL: "/static"}, "StaticURL", `StaticURL "/static"`},
		{"listen", Options{Target: "nginx", Listen: "0"}, "Listen", `Listen "0"`},
		{"relative dir", Options{Target: "nginx", Dir: "srv/x"}, "Dir", `Dir "srv/x": want an absolute path`},
		{"spawn nginx", Options{Target: "nginx", Spawn: true}, "Spawn", "lighttpd, cherokee or h2o"},
		// h2o 2.2's fastcgi.connect takes one address: several backends are refused, not
		// quietly cut to the first.
		{"h2o balanced", Options{Target: "h2o", Backends: []Backend{TCP("127.0.0.1", 3033), TCP("127.0.0.1", 3034)}}, "Backends", "cannot balance FastCGI"},
		{"spawn lighttpd scgi", Options{Target: "lighttpd", Spawn: true, Protocol: "scgi"}, "Spawn", "which speaks fcgi"},
		{"bad name", Options{Target: "nginx", Name: "my site"}, "Name", `Name "my site"`},
		{"server name", Options{Target: "nginx", ServerNames: []string{"a b"}}, "ServerNames", `ServerNames[0] "a b"`},
		{"secret", Options{Target: "apache", Protocol: "ajp", Secret: "a b"}, "Secret", "Secret: want 1-255 characters"},
		{"secret for systemd", Options{Target: "systemd", Protocol: "ajp", Secret: "abc"}, "Secret", "APPGEN_AJP_SECRET"},
		{"secret without ajp", Options{Target: "apache", Secret: "abc"}, "Secret", "only used with protocol ajp"},
		// Issue 14: --listen's host was never checked; a newline in it started a directive.
		{"listen host newline", Options{Target: "lighttpd", Listen: "127.0.0.1\ninclude_shell \"touch /tmp/x\":80"}, "Listen", `Listen "127.0.0.1\ninclude_shell`},
		{"listen host space", Options{Target: "nginx", Listen: "a b:80"}, "Listen", "want a port, or host:port"},
		{"user", Options{Target: "systemd", User: "Root;"}, "User", "system user"},
		{"web group", Options{Target: "systemd", WebGroup: "www data"}, "WebGroup", "system user or group"},
		{"command newline", Options{Target: "nginx", Command: "appgen\nserver {}"}, "Command", "printable ASCII"},
		{"version", Options{Target: "nginx", Version: "1\n"}, "Version", "letters, digits"},
		{"settings", Options{Target: "fcgi", Settings: "prod;rm"}, "Settings", "profile name"},
		{"wildcard in the middle", Options{Target: "nginx", ServerNames: []string{"www.*.com"}}, "ServerNames", "wildcard"},
		{"bare wildcard", Options{Target: "nginx", ServerNames: []string{"*.com"}}, "ServerNames", "wildcard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Render() error = %v, want it to contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "deploy: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Errorf("error %v is not a *FieldError for %s", err, tt.field)
			}
		})
	}
	if _, err := Render(Options{Target: "iis"}); !errors.Is(err, ErrUnknownTarget) {
		t.Errorf("unknown target error %v does not wrap ErrUnknownTarget", err)
	}
	_, err := Render(Options{Target: "apache", Protocol: "ajp", Secret: "s3cr;t"})
	if err == nil || strings.Contains(err.Error(), "s3cr") {
		t.Errorf("a refused secret's error repeats it: %v", err)
	}
}

func TestParseBackend(t *testing.T) {
	tests := []struct {
		in      string
		want    Backend
		wantErr bool
	}{
		{"127.0.0.1:3033", Backend{"tcp", "127.0.0.1:3033"}, false},
		{"[::1]:3033", Backend{"tcp", "[::1]:3033"}, false},
		{"localhost:80", Backend{"tcp", "localhost:80"}, false},
		{"unix:/run/mysite.sock", Backend{"unix", "/run/mysite.sock"}, false},
		{"/run/mysite.sock", Backend{"unix", "/run/mysite.sock"}, false},
		{"127.0.0.1", Backend{}, true},
		{":3033", Backend{}, true},
		{"unix:rel.sock", Backend{}, true},
		{"host:http", Backend{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseBackend(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseBackend(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Fatalf("ParseBackend(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if !tt.wantErr {
				if again, err := ParseBackend(got.String()); err != nil || again != got {
					t.Errorf("ParseBackend(%q.String()) = %+v, %v; want it back", tt.in, again, err)
				}
			}
		})
	}
}

func FuzzParseBackend(f *testing.F) {
	for _, s := range []string{"127.0.0.1:3033", "[::1]:1", "unix:/a", "/a/b.sock", "x", ":", "unix:", "[::1]:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBackend(s)
		if err != nil {
			return
		}
		// Whatever parses renders safely and reads back the same.
		again, err := ParseBackend(b.String())
		if err != nil || again != b {
			t.Fatalf("ParseBackend(%q) = %+v, but its String %q reads back as %+v, %v", s, b, b.String(), again, err)
		}
		if strings.ContainsAny(b.Address, "\n\"'{};#") {
			t.Fatalf("ParseBackend(%q) accepted %q, which breaks server configs", s, b.Address)
		}
	})
}

// TestEveryTemplateParses parses every embedded template, so a broken one fails here and
// not in a user's hands.
func TestEveryTemplateParses(t *testing.T) {
	seen := map[string]bool{}
	for _, target := range targets {
		seen[target.template] = true
		if _, err := parse(templateFS, target.template); err != nil {
			t.Errorf("%s: %v", target.name, err)
		}
	}
	err := fs.WalkDir(templateFS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && p != "common.tmpl" && !seen[p] {
			t.Errorf("deploy/%s belongs to no target", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// variants are the inputs every target is rendered and checked with.
func variants(target string) []Options {
	base := []Options{
		{Target: target},
		{Target: target, Prefix: "/app", ServerNames: []string{"example.com", "www.example.com"}, Listen: "127.0.0.1:8080"},
		{Target: target, Backends: []Backend{Unix("/run/mysite/mysite.sock")}},
		{Target: target, Backends: []Backend{TCP("127.0.0.1", 3033)}},
		// Issue 14: a wildcard server name must load on every target.
		{Target: target, ServerNames: []string{"*.example.com"}},
		{Target: target, ServerNames: []string{"*.example.com", "example.com"}, Listen: "[::1]:8080"},
	}
	t := targetByName[target]
	if !t.oneBackend && t.noBalance == "" && t.usesBackends {
		base = append(base, Options{Target: target, Backends: []Backend{TCP("127.0.0.1", 3033), TCP("127.0.0.1", 3034), Unix("/run/mysite/3.sock")}})
	}
	for _, p := range t.protocols {
		if p == "fcgi" {
			continue
		}
		o := Options{Target: target, Protocol: p, Prefix: "/app"}
		if p == "ajp" && !t.oneBackend {
			o.Secret = "s3cr3t"
		}
		base = append(base, o)
	}
	if t.spawn {
		base = append(base, Options{Target: target, Spawn: true})
	}
	return base
}

func TestRenderHeaderAndFooter(t *testing.T) {
	for _, target := range Targets() {
		for _, o := range variants(target) {
			o.Version, o.Command = "v9.9.9", "appgen config "+target+" --flags"
			text, err := Render(o)
			if err != nil {
				t.Fatalf("%s %+v: %v", target, o, err)
			}
			s := string(text)
			first := s
			if strings.HasPrefix(s, "#!") {
				first = s[strings.IndexByte(s, '\n')+1:]
			}
			if !strings.HasPrefix(first, "# Generated by appgen v9.9.9: appgen config "+target+" --flags\n") {
				t.Errorf("%s: output does not start with the version comment:\n%s", target, s)
			}
			if !strings.Contains(s, "# protocol: ") || !strings.Contains(s, "# project: ") {
				t.Errorf("%s: header does not record the inputs:\n%s", target, s)
			}
			lines := strings.Split(strings.TrimSpace(s), "\n")
			tail := strings.Join(lines[max(0, len(lines)-4):], "\n")
			if !strings.Contains(strings.ToLower(tail), "check") {
				t.Errorf("%s: output does not end by saying how to check it:\n%s", target, tail)
			}
			if strings.Contains(s, "<no value>") {
				t.Errorf("%s: template printed <no value>:\n%s", target, s)
			}
		}
	}
}

// TestCheckEveryVariant runs each server's own validator on every variant: what appgen
// writes must pass nginx -t, apache2 -t, lighttpd -tt, sh -n and the Cherokee key check.
func TestCheckEveryVariant(t *testing.T) {
	for _, target := range Targets() {
		t.Run(target, func(t *testing.T) {
			if p := targetByName[target].program; p != "" && p != "sh" {
				webserver.RequireProgram(t, p)
			}
			for _, o := range variants(target) {
				if _, err := Check(context.Background(), o); err != nil {
					text, _ := Render(o)
					t.Errorf("%+v:\n%v\n%s", o, err, text)
				}
			}
		})
	}
}

func TestCheckRejectsBrokenOutput(t *testing.T) {
	tests := []struct {
		target  string
		program string
		text    string
	}{
		{"nginx", "nginx", "server { listen 80; fastcgi_keep_conn maybe; }\n"},
		{"apache", "apache2", "<VirtualHost *:80>\nProxyPass\n</VirtualHost>\n"},
		{"lighttpd", "lighttpd", "fastcgi.server = ( \"/x\" => \n"},
		{"fcgi", "sh", "#!/bin/sh\nif then fi\n"},
		{"cherokee", "", "vserver!1!nick = default\nvserver!1!document_root = /x\nvserver!1!rule!1!match = default\n"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			if tt.program != "" {
				webserver.RequireProgram(t, tt.program)
			}
			r, err := Options{Target: tt.target}.resolve()
			if err != nil {
				t.Fatal(err)
			}
			_, err = checkText(context.Background(), r, []byte(tt.text))
			if err == nil {
				t.Fatal("Check accepted broken output")
			}
			if tt.target != "cherokee" && !errors.Is(err, ErrCheckFailed) {
				t.Errorf("error %v does not wrap ErrCheckFailed", err)
			}
		})
	}
}

// TestCherokeeVariantsPassKeyCheck pins issue 13 where Cherokee is absent (with it,
// TestCheckEveryVariant runs cherokee -t): --server-name wrote only vserver!10, and Cherokee
// refuses to start unless its lowest-numbered virtual server is nicknamed "default".
func TestCherokeeVariantsPassKeyCheck(t *testing.T) {
	for _, o := range variants("cherokee") {
		text, err := Render(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := ValidateCherokee(text); err != nil {
			t.Errorf("%+v: %v\n%s", o, err, text)
		}
	}
}

func TestValidateCherokee(t *testing.T) {
	good := "vserver!1!nick = default\nvserver!1!document_root = /srv\n" +
		"vserver!1!rule!1!match = default\nvserver!1!rule!1!handler = fcgi\n" +
		"vserver!1!rule!1!handler!balancer = round_robin\nvserver!1!rule!1!handler!balancer!source!1 = 1\n" +
		"source!1!nick = a\nsource!1!type = host\nsource!1!host = 127.0.0.1:1\n"
	if err := ValidateCherokee([]byte(good)); err != nil {
		t.Fatalf("ValidateCherokee(good) = %v", err)
	}
	tests := []struct {
		name, edit, want string
	}{
		{"unknown key", good + "vserver!1!rule!1!handler!bogus = 1\n", "unknown key path"},
		{"bad value", strings.Replace(good, "handler = fcgi", "handler = cgi-ish", 1), "want one of"},
		{"missing source", strings.Replace(good, "source!1 = 1", "source!1 = 2", 1), "names a source that is not defined"},
		{"no default rule", strings.Replace(good, "match = default", "match = directory\nvserver!1!rule!1!match!directory = /a", 1), "0 default rules"},
		{"no host", strings.Replace(good, "source!1!host = 127.0.0.1:1\n", "", 1), "has no host"},
		{"interpreter without command", strings.Replace(good, "type = host", "type = interpreter", 1), "without an interpreter command"},
		{"not key value", good + "just words\n", `want "key!path = value"`},
		{"twice", good + "source!1!nick = b\n", "set twice"},
		{"no handler", good + "vserver!1!rule!5!match = exists\n", "has no handler"},
		// Issue 13: --server-name wrote only vserver!10, and Cherokee refused to start.
		{"no default vserver", strings.ReplaceAll(strings.Replace(good, "nick = default", "nick = example.com", 1), "vserver!1!", "vserver!10!"), `nick must be "default"`},
		{"lowest not default", strings.ReplaceAll(good, "vserver!1!", "vserver!20!") + "vserver!5!nick = other\nvserver!5!document_root = /o\nvserver!5!rule!1!match = default\nvserver!5!rule!1!handler = file\n", "vserver!5 is the lowest-numbered"},
		// cherokee -t would read the named file: --check must refuse it before running Cherokee.
		{"include", good + "include = /etc/shadow\n", "unknown key path include"},
		{"try_include", good + "try_include = /etc/shadow\n", "unknown key path try_include"},
		{"custom_error without code", good + "vserver!1!rule!9!match = exists\nvserver!1!rule!9!handler = custom_error\n", "needs handler!error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateCherokee([]byte(tt.edit))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ValidateCherokee() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func writeProject(t *testing.T, deployGo string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/shop\n\ngo 1.24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if deployGo != "" {
		if err := os.MkdirAll(filepath.Join(dir, "settings"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "settings", "deploy.go"), []byte(deployGo), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReadProject(t *testing.T) {
	const full = `package settings

// Deployment constants.
const (
	ProjectName = "shop"
	Protocol    = "scgi"
	Host        = "127.0.0.2"
	Port        = 4000
	Socket      = ""
	StaticURL   = "/assets/"
	StaticRoot  = "public"
)

const Unrelated = 1 + 2
`
	t.Run("constants", func(t *testing.T) {
		dir := writeProject(t, full)
		p, err := ReadProject(dir)
		if err != nil {
			t.Fatal(err)
		}
		want := Project{Dir: dir, Module: "example.com/shop", Name: "shop", Protocol: "scgi", Host: "127.0.0.2", Port: 4000, StaticURL: "/assets/", StaticRoot: "public"}
		if p != want {
			t.Fatalf("ReadProject() = %+v, want %+v", p, want)
		}
		o := p.Options("nginx")
		if len(o.Backends) != 1 || o.Backends[0] != TCP("127.0.0.2", 4000) || o.Protocol != "scgi" || o.Dir != dir {
			t.Fatalf("Options() = %+v", o)
		}
	})
	t.Run("socket", func(t *testing.T) {
		dir := writeProject(t, "package settings\n\nconst Socket = \"/run/shop.sock\"\n")
		p, err := ReadProject(dir)
		if err != nil {
			t.Fatal(err)
		}
		if o := p.Options("nginx"); len(o.Backends) != 1 || o.Backends[0] != Unix("/run/shop.sock") {
			t.Fatalf("Options().Backends = %+v, want the socket", o.Backends)
		}
	})
	errs := []struct {
		name, src, want string
	}{
		{"non-literal", "package settings\n\nconst Port = 3000 + 33\n", "constant Port is not a basic literal, which appgen config reads without building the project; give the value as a literal"},
		{"identifier", "package settings\n\nconst base = \"/x/\"\nconst StaticURL = base\n", "constant StaticURL is not a basic literal"},
		{"wrong kind", "package settings\n\nconst Port = \"3033\"\n", "constant Port: value \"3033\" is not an integer literal"},
		{"syntax", "package settings\n\nconst (\n", "deploy: parsing"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadProject(writeProject(t, tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ReadProject() error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	t.Run("no go.mod", func(t *testing.T) {
		_, err := ReadProject(t.TempDir())
		if !errors.Is(err, ErrNotProject) {
			t.Fatalf("ReadProject(empty dir) = %v, want ErrNotProject", err)
		}
	})
	t.Run("no settings", func(t *testing.T) {
		_, err := ReadProject(writeProject(t, ""))
		if !errors.Is(err, ErrNotProject) {
			t.Fatalf("ReadProject(no settings/deploy.go) = %v, want ErrNotProject", err)
		}
	})
}

func FuzzParseConstants(f *testing.F) {
	f.Add("package settings\nconst (\n\tProjectName = \"mysite\"\n\tPort = 3033\n)\n")
	f.Add("package settings\nconst Port = 0x10\n")
	f.Add("package settings\nconst Host, Port = \"h\", 1\n")
	f.Add("package settings\nconst Port\n")
	f.Add("package settings\nconst StaticURL = `/s/`\n")
	f.Fuzz(func(t *testing.T, src string) {
		consts, err := parseConstants("deploy.go", []byte(src))
		if err != nil {
			return
		}
		for name, lit := range consts {
			if _, known := deployConstants[name]; !known {
				t.Fatalf("parseConstants returned unknown constant %s", name)
			}
			// Either conversion succeeds or says why; neither panics.
			_, _ = lit.str()
			_, _ = lit.integer()
		}
	})
}

func TestProjectFiles(t *testing.T) {
	p := Project{Dir: "/srv/shop", Module: "shop", Name: "shop", Protocol: "fcgi", Host: "127.0.0.1", Port: 3033, StaticURL: "/static/", StaticRoot: "static"}
	files, err := ProjectFiles(p, "v1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]fs.FileMode{}
	for _, f := range files {
		got[f.Path] = f.Mode
		if !strings.Contains(string(f.Data), "# Generated by appgen v1.0.0: appgen startproject shop") {
			t.Errorf("%s lacks the header:\n%s", f.Path, f.Data)
		}
	}
	want := map[string]fs.FileMode{
		"deploy/apache.conf": 0o666, "deploy/apache-fcgid.conf": 0o666, "deploy/htaccess": 0o666,
		"shop.fcgi": 0o777, "deploy/lighttpd.conf": 0o666, "deploy/cherokee.conf": 0o666,
		"deploy/nginx.conf": 0o666, "deploy/restart.sh": 0o777, "deploy/shop.service": 0o666,
		"deploy/shop.socket": 0o666,
		"deploy/Caddyfile":   0o666, "deploy/haproxy.cfg": 0o666, "deploy/h2o.conf": 0o666,
	}
	if len(got) != len(want) {
		t.Errorf("ProjectFiles wrote %v, want %v", got, want)
	}
	for path, mode := range want {
		if got[path] != mode {
			t.Errorf("%s: mode %v, want %v (present: %v)", path, got[path], mode, got)
		}
	}

	t.Run("ajp project", func(t *testing.T) {
		p.Protocol = "ajp"
		files, err := ProjectFiles(p, "v1.0.0")
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, f := range files {
			paths = append(paths, f.Path)
		}
		// nginx, lighttpd and Cherokee cannot speak AJP; the spawned targets speak FastCGI.
		for _, absent := range []string{"deploy/nginx.conf", "deploy/lighttpd.conf", "deploy/cherokee.conf"} {
			for _, p := range paths {
				if p == absent {
					t.Errorf("%s written for an AJP project", absent)
				}
			}
		}
		if len(paths) != 7 {
			t.Errorf("ProjectFiles for AJP = %v, want 7 files", paths)
		}
	})
}
