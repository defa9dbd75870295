package deploy

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// The property of issue 14: for every target and every field, a hostile value is either
// refused with a *FieldError naming that field, or the output reads back (with the target's
// own lexer, directives.go) into exactly the directive list a benign value of the same shape
// gives, and the real validator accepts it.
//
// CI runs a fixed seed and a bounded number of values. To run it longer:
//
//	APPGEN_PROPERTY_SEED=$RANDOM APPGEN_PROPERTY_N=2000 APPGEN_PROPERTY_CHECKS=200 \
//	    go test ./deploy -run TestHostileValues -v -timeout 1h

// propertyField is one Options field the property test attacks.
type propertyField struct {
	field  string // the Options field a refusal must name
	benign string // a value the field accepts
	set    func(o *Options, v string)
	// shape returns a benign value with v's shape when v's accepted form legitimately
	// changes the output's structure (a wildcard server name, a listen host), or "".
	shape func(v string) string
}

var propertyFields = []propertyField{
	{field: "Name", benign: "mysite", set: func(o *Options, v string) { o.Name = v }},
	{field: "Dir", benign: "/srv/mysite", set: func(o *Options, v string) { o.Dir = v }},
	{field: "Binary", benign: "/srv/mysite/bin/mysite", set: func(o *Options, v string) { o.Binary = v }},
	{field: "Launcher", benign: "/srv/mysite/mysite.fcgi", set: func(o *Options, v string) { o.Launcher = v }},
	{field: "DocumentRoot", benign: "/srv/mysite/public_html", set: func(o *Options, v string) { o.DocumentRoot = v }},
	{field: "StaticRoot", benign: "/srv/mysite/static", set: func(o *Options, v string) { o.StaticRoot = v }},
	{field: "Backends", benign: "/run/mysite/mysite.sock", set: func(o *Options, v string) { o.Backends = []Backend{Unix(v)} },
		shape: func(v string) string {
			// The systemd unit makes the socket's directory only when it is under /run.
			if !strings.HasPrefix(path.Dir(v), "/run/") {
				return "/srv/mysite/mysite.sock"
			}
			return ""
		}},
	{field: "Backends", benign: "127.0.0.1", set: func(o *Options, v string) {
		o.Backends = []Backend{{Network: "tcp", Address: v + ":3033"}}
	}, shape: func(v string) string {
		if strings.Contains(v, ":") {
			return "[::1]"
		}
		return ""
	}},
	{field: "ServerNames", benign: "example.com", set: func(o *Options, v string) { o.ServerNames = []string{v} },
		shape: func(v string) string {
			if strings.HasPrefix(v, "*.") {
				return "*.example.com"
			}
			return ""
		}},
	{field: "Listen", benign: "127.0.0.1:8080", set: func(o *Options, v string) { o.Listen = v },
		shape: func(v string) string {
			if !strings.Contains(v, ":") {
				return "8080"
			}
			return ""
		}},
	{field: "Prefix", benign: "/app", set: func(o *Options, v string) { o.Prefix = v }},
	{field: "StaticURL", benign: "/app/static/", set: func(o *Options, v string) { o.StaticURL = v }},
	{field: "Secret", benign: "s3cr3t", set: func(o *Options, v string) { o.Secret = v }},
	{field: "Settings", benign: "production", set: func(o *Options, v string) { o.Settings = v }},
	{field: "User", benign: "mysite", set: func(o *Options, v string) { o.User = v }},
	{field: "WebGroup", benign: "www-data", set: func(o *Options, v string) { o.WebGroup = v }},
	{field: "Image", benign: "registry.example.com/team/mysite:1.2.0", set: func(o *Options, v string) { o.Image = v }},
	{field: "WebImage", benign: "registry.example.com/team/mysite-web:1.2.0", set: func(o *Options, v string) { o.WebImage = v }},
	{field: "Version", benign: "v1.2.3", set: func(o *Options, v string) { o.Version = v }},
	{field: "Command", benign: "appgen config x", set: func(o *Options, v string) { o.Command = v }},
}

// hostilePieces are what each syntax treats specially; the generator splices them into
// benign values.
var hostilePieces = []string{
	"\n", "\r", "\x00", "\t", "\x7f", " ", `"`, "'", "`", "\\", "\\\n", "$", "${X}", "$(touch /tmp/appgen-pwned)",
	"%h", "%{REQUEST_URI}", "%%", ";", "{", "}", "#", "|", "||", "&", "<", ">", "(", ")", "*", "?", "[", "]", "!",
	"~", ",", "=", ":", "@", "+", ".", "..", "/", "//", "-", "_", "é", "\u2028", "\ufeff",
	"\ninclude_shell \"touch /tmp/appgen-pwned\"\n", "\";\n}\nserver {\n", "' ; touch /tmp/appgen-pwned #",
	"\nExecStartPre=/bin/touch /tmp/appgen-pwned", "\n<Location />\n", "|/bin/sh", "*.", "[::1]", "::1",
}

// hostile returns a value derived from benign by splicing in hostile pieces or random bytes.
func hostile(rng *rand.Rand, benign string) string {
	v := benign
	for range 1 + rng.IntN(2) {
		var piece string
		if rng.IntN(4) == 0 {
			b := make([]byte, 1+rng.IntN(4))
			for i := range b {
				b[i] = byte(rng.IntN(128))
			}
			piece = string(b)
		} else {
			piece = hostilePieces[rng.IntN(len(hostilePieces))]
		}
		switch rng.IntN(4) {
		case 0:
			v = piece + v
		case 1:
			v += piece
		case 2:
			i := rng.IntN(len(v) + 1)
			v = v[:i] + piece + v[i:]
		default:
			if len(v) > 0 {
				i := rng.IntN(len(v))
				v = v[:i] + piece + v[i+1:]
			}
		}
	}
	return v
}

// propertyBases are the Options each target is attacked with: every protocol it speaks, for
// apache AJP with a secret, and for systemd the plain service as well as the socket-activated
// one (whose socket unit is the systemd-socket target's, attacked on its own).
func propertyBases(target string) []Options {
	t := targetByName[target]
	var out []Options
	for _, p := range t.protocols {
		o := Options{Target: target, Protocol: p, Prefix: "/app", ServerNames: []string{"example.com"}, Listen: "127.0.0.1:8080"}
		if p == "ajp" && target == "apache" {
			o.Secret = "s3cr3t"
			o.Backends = []Backend{TCP("127.0.0.1", 8009)}
		}
		out = append(out, o)
	}
	if t.spawn {
		out = append(out, Options{Target: target, Spawn: true, Prefix: "/app"})
	}
	if t.companion != "" {
		// The plain service (no socket unit) puts the socket's path, group and mode in ExecStart.
		out = append(out, Options{Target: target, NoSocketUnit: true, Prefix: "/app"})
	}
	return out
}

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s=%q: want an integer", name, s)
	}
	return n
}

func TestHostileValues(t *testing.T) {
	seed := envInt(t, "APPGEN_PROPERTY_SEED", 1)
	perField := envInt(t, "APPGEN_PROPERTY_N", 12)
	checks := envInt(t, "APPGEN_PROPERTY_CHECKS", 4)
	t.Logf("seed %d, %d values per field and base, up to %d validator runs per target", seed, perField, checks)
	for _, target := range Targets() {
		t.Run(target, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(len(target))))
			var toValidate []Options
			refused, accepted := 0, 0
			for _, base := range propertyBases(target) {
				for _, f := range propertyFields {
					if f.field == "Secret" && base.Secret == "" {
						continue
					}
					benignOpts := base
					f.set(&benignOpts, f.benign)
					want, err := renderDirectives(benignOpts)
					if err != nil {
						// This field does not apply to this base (a secret for restart).
						continue
					}
					for range perField {
						v := hostile(rng, f.benign)
						o := base
						f.set(&o, v)
						text, err := Render(o)
						if err != nil {
							var fe *FieldError
							if !errors.As(err, &fe) || fe.Field != f.field {
								t.Errorf("%s %q: refused with %v, want a *FieldError for %s", f.field, v, err, f.field)
							}
							if f.field == "Secret" && strings.Contains(err.Error(), v) {
								t.Errorf("the error for a refused secret repeats it: %v", err)
							}
							refused++
							continue
						}
						accepted++
						compare := want
						if f.shape != nil {
							if s := f.shape(v); s != "" {
								shaped := base
								f.set(&shaped, s)
								if compare, err = renderDirectives(shaped); err != nil {
									t.Fatalf("%s shape %q: %v", f.field, s, err)
								}
							}
						}
						have, err := directives(targetByName[target].syntax, string(text))
						if err != nil {
							t.Errorf("%s %q: output does not read back: %v\n%s", f.field, v, err, text)
							continue
						}
						if !slices.Equal(have, compare) {
							t.Errorf("%s %q changed the directives:\nhave %q\nwant %q\n%s", f.field, v, have, compare, text)
							continue
						}
						if len(toValidate) < checks && v != f.benign {
							toValidate = append(toValidate, o)
						}
					}
				}
			}
			t.Logf("%d refused, %d accepted", refused, accepted)
			if len(toValidate) == 0 {
				return
			}
			if p := targetByName[target].program; p != "" && p != "sh" {
				webserver.RequireProgram(t, p)
			}
			for _, o := range toValidate {
				if _, err := Check(context.Background(), o); err != nil {
					text, _ := Render(o)
					t.Errorf("the real validator refused an accepted value:\n%v\n%s", err, text)
				}
			}
		})
	}
}

// TestQuotingAlone attacks the second layer by itself: values are put straight into a
// resolved configuration, past every allow-list, and each must either make a quoting
// function refuse (the render fails) or leave the directive list as a benign value does.
func TestQuotingAlone(t *testing.T) {
	seed := envInt(t, "APPGEN_PROPERTY_SEED", 1)
	perField := envInt(t, "APPGEN_PROPERTY_N", 12)
	fields := []struct {
		name string
		set  func(r *resolved, v string)
	}{
		{"Name", func(r *resolved, v string) { r.Name = v }},
		{"Dir", func(r *resolved, v string) { r.Dir = v }},
		{"Binary", func(r *resolved, v string) { r.Binary = v }},
		{"Launcher", func(r *resolved, v string) { r.Launcher = v }},
		{"DocumentRoot", func(r *resolved, v string) { r.DocumentRoot = v }},
		{"StaticRoot", func(r *resolved, v string) { r.StaticRoot = v }},
		{"ServerNames", func(r *resolved, v string) { r.ServerNames = []string{"example.com", v} }},
		{"Prefix", func(r *resolved, v string) { r.Prefix = "/app" + v }},
		{"StaticURL", func(r *resolved, v string) { r.StaticURL = "/st" + v + "/"; r.StaticDir = "/st" + v }},
		{"Settings", func(r *resolved, v string) { r.Settings = v }},
		{"User", func(r *resolved, v string) { r.User = v }},
		{"WebGroup", func(r *resolved, v string) { r.WebGroup = v }},
		{"Version", func(r *resolved, v string) { r.Version = v }},
		{"Command", func(r *resolved, v string) { r.Command = v }},
		{"Socket", func(r *resolved, v string) { r.Backends = []Backend{Unix("/run/mysite/x" + v)} }},
		{"Image", func(r *resolved, v string) { r.Image = "mysite:" + v }},
		{"WebImage", func(r *resolved, v string) { r.WebImage = "mysite-web:" + v }},
	}
	for _, target := range Targets() {
		t.Run(target, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 7))
			for _, base := range propertyBases(target) {
				for _, f := range fields {
					r, err := base.resolve()
					if err != nil {
						t.Fatal(err)
					}
					if f.name == "Socket" && (!r.t.usesBackends || base.Protocol == "ajp") {
						continue
					}
					benign := *r
					f.set(&benign, "plain")
					text, err := renderWith(templateFS, &benign)
					if err != nil {
						t.Fatalf("%s benign: %v", f.name, err)
					}
					want, err := directives(targetByName[target].syntax, string(text))
					if err != nil {
						t.Fatal(err)
					}
					for range perField {
						v := hostile(rng, "plain")
						h := *r
						f.set(&h, v)
						text, err := renderWith(templateFS, &h)
						if err != nil {
							if !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), "cannot carry") {
								t.Errorf("%s %q: %v, want a quoting refusal", f.name, v, err)
							}
							continue
						}
						have, err := directives(targetByName[target].syntax, string(text))
						if err != nil || !slices.Equal(have, want) {
							t.Errorf("%s %q got past the quoting: %v\nhave %q\nwant %q\n%s", f.name, v, err, have, want, text)
						}
					}
				}
			}
		})
	}
}

func renderDirectives(o Options) ([]string, error) {
	text, err := Render(o)
	if err != nil {
		return nil, err
	}
	return directives(targetByName[o.Target].syntax, string(text))
}

// TestDirectivesSeeInjections pins that the directive readers, the container targets'
// included, notice what the property test must catch: a second directive, a changed argument
// count, an expansion.
func TestDirectivesSeeInjections(t *testing.T) {
	tests := []struct {
		syntax      *syntax
		benign, bad string
	}{
		{syntaxNginx, `root "/srv/x";`, "root \"/srv/x\";\ninclude /etc/passwd;"},
		{syntaxNginx, `root "/srv/x";`, `root "/srv/x" y;`},
		{syntaxNginx, `root "/srv/x";`, `root "/srv/$x";`},
		{syntaxApache, `Alias "/a/" "/b/"`, "Alias \"/a/\" \"/b/\"\nErrorLog \"|/bin/sh\""},
		{syntaxApache, `Alias "/a/" "/b/"`, `Alias "/a/" "/b/" x`},
		{syntaxApache, `Alias "/a/" "/b/"`, `Alias "/a/" "${X}"`},
		{syntaxApache, "# a comment\nAlias /a /b", "# a comment \\\nAlias /a /b"},
		{syntaxLighttpd, `alias.url += ( "/a" => "/b" )`, "alias.url += ( \"/a\" => \"/b\" )\ninclude_shell \"id\""},
		{syntaxLighttpd, `x = "a"`, `x = "a\\" + "b"`},
		{syntaxShell, `exec 'a' 'b'`, `exec 'a' 'b'; id`},
		{syntaxShell, `exec 'a' 'b'`, `exec 'a' "$(id)"`},
		{syntaxShell, `exec 'a' 'b'`, "exec 'a' `id`"},
		{syntaxShell, `exec 'a' 'b'`, `exec 'a' 'b c' d`},
		{syntaxSystemd, `ExecStart="/a" "b"`, `ExecStart="/a" "b" c`},
		{syntaxSystemd, `ExecStart="/a" "b"`, `ExecStart="/a" "%h"`},
		{syntaxSystemd, `ExecStart="/a" "b"`, "ExecStart=\"/a\" \"b\"\nExecStartPre=/bin/id"},
		{syntaxCherokee, "a!b = c", "a!b = c\nd!e = f"},
		{syntaxCaddy, `root * "/srv/x"`, "root * \"/srv/x\"\nimport /etc/passwd"},
		{syntaxHAProxy, `docroot '/srv/x'`, "docroot '/srv/x'\nexternal-check command /bin/sh"},
		{syntaxHAProxy, `docroot '/srv/x'`, `docroot '/srv/x' y`},
		{syntaxHAProxy, `docroot '/srv/x'`, `docroot "/srv/$X"`},
		{syntaxHAProxy, `docroot '/srv/x'`, `docroot '/srv/%[src]'`},
		{syntaxCaddy, `root * "/srv/x"`, `root * "/srv/x" y`},
		{syntaxCaddy, `root * "/srv/x"`, `root * "/srv/{$HOME}"`},
		{syntaxCaddy, `root * "/srv/x"`, `root * "/srv/{http.request.uri}"`},
		{syntaxH2O, "paths:\n  '/a':\n    file.dir: '/srv/x'", "paths:\n  '/a':\n    file.dir: '/srv/x'\n    mruby.handler: 'x'"},
		{syntaxH2O, "paths:\n  '/a':\n    file.dir: '/srv/x'", "paths:\n  '/a':\n    file.dir: '/srv/x'\n  '/b':\n    file.dir: '/srv/x'"},
		{syntaxH2O, "paths:\n  '/a':\n    file.dir: '/srv/x'", "paths:\n  '/a':\n    file.dir: !file /etc/passwd"},
		{syntaxH2O, "paths:\n  '/a':\n    file.dir: '/srv/x'", "paths:\n  '/a':\n    file.dir: '/srv/x' y"},
		{syntaxH2O, "paths:\n  '/a':\n    file.dir: '/srv/x'", "paths:\n  '/a':\n    file.dir: \"/srv/\\x\""},
		{syntaxH2O, "paths:\n  '/a':\n    file.dir: '/srv/x'", "paths:\n  '/a':\n    file.dir: '/srv/x'\rfile.custom-handler: 'x'"},
		{syntaxH2O, "paths:\n  '/a':\n    file.dir: '/srv/x'", "paths:\n  '/a':\n    file.dir: {a: b}"},
		{syntaxH2O, "paths:\n  '/a':\n    file.dir: '/srv/x'", "paths:\n  '/a':\n  file.dir: '/srv/x'"},
		{syntaxDockerfile, `WORKDIR /srv/x`, "WORKDIR /srv/x\nRUN id"},
		{syntaxDockerfile, `WORKDIR /srv/x`, `WORKDIR /srv/$X`},
		{syntaxDockerfile, `WORKDIR /srv/x`, `WORKDIR /srv/x y`},
		{syntaxDockerfile, `WORKDIR /srv/x`, "WORKDIR /srv/x \\\nRUN id"},
		{syntaxDockerfile, `ENV A="x"`, `ENV A="x" B="y"`},
		{syntaxDockerfile, `ENV A="x"`, `ENV A="$x"`},
		{syntaxDockerfile, `CMD ["a", "b"]`, `CMD ["a", "b", "c"]`},
		{syntaxDockerfile, `CMD ["a", "b"]`, `CMD a b`},
		{syntaxDockerignore, "mysite.env", "mysite.env\n!mysite.env"},
		{syntaxDockerignore, "mysite.env", "*.env"},
		{syntaxYAML, `name: "x"`, "name: \"x\"\nhostPath: \"/\""},
		{syntaxYAML, `name: "x"`, `name: x`},
		{syntaxYAML, `name: "x"`, `name: "x" "y"`},
		{syntaxYAML, "data:\n  a: |\n    root \"/x\";", "data:\n  a: |\n    root \"/x\";\n    include /etc/passwd;"},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%s-%d", tt.syntax, i), func(t *testing.T) {
			b, err := directives(tt.syntax, tt.benign)
			if err != nil {
				t.Fatal(err)
			}
			h, err := directives(tt.syntax, tt.bad)
			if err == nil && slices.Equal(b, h) {
				t.Errorf("%q and %q read as the same directives %q", tt.benign, tt.bad, b)
			}
		})
	}
	// Quoting that works reads back the same.
	for _, v := range []string{"a'b", "a b", "$(id)", "`id`", "a\"b"} {
		q, _ := shellQuote(v)
		b, _ := directives(syntaxShell, "exec 'x'")
		h, err := directives(syntaxShell, "exec "+q)
		if err != nil || !slices.Equal(b, h) {
			t.Errorf("shell-quoted %q reads as %q, %v; want %q", v, h, err, b)
		}
	}
}

// TestCheckRefusesUnknownDirectives pins that Check never hands a validator a
// configuration holding a directive that could run a command, nor passes the container
// targets' output holding what they never write: ADD (which fetches URLs), ARG (build
// arguments, where a secret ends up in the image's history), ONBUILD, a hostPath volume, a
// privileged container, or an nginx include inside the sidecar's ConfigMap.
func TestCheckRefusesUnknownDirectives(t *testing.T) {
	tests := []struct{ target, text string }{
		{"lighttpd", "include_shell \"touch /tmp/appgen-pwned\"\n"},
		{"apache", "ErrorLog \"|/bin/touch /tmp/appgen-pwned\"\n"},
		{"apache", "RewriteMap m \"prg:/bin/touch /tmp/appgen-pwned\"\n"},
		{"nginx", "include /etc/passwd;\n"},
		{"systemd", "[Service]\nExecStartPre=/bin/touch /tmp/appgen-pwned\n"},
		{"caddy", "import /etc/passwd\n"},
		{"haproxy", "global\n    external-check\n"},
		{"h2o", "hosts:\n  'default':\n    paths:\n      '/':\n        file.custom-handler:\n          extension: .fcgi\n"},
		{"h2o", "hosts:\n  'default':\n    paths:\n      '/':\n        mruby.handler: 'Proc.new { }'\n"},
		{"h2o", "hosts:\n  'default':\n    paths:\n      '/':\n        'mruby.handler-file': '/tmp/x.rb'\n"},
		{"h2o", "hosts:\n  'default':\n    paths:\n      '/':\n        setenv:\n          LD_PRELOAD: '/tmp/x.so'\n"},
		{"h2o", "hosts: !file /etc/h2o/hosts.conf\n"},
		{"h2o", "error-log: '|/bin/touch /tmp/appgen-pwned'\n"},
		{"docker", "FROM golang:1.24 AS build\nADD https://example.com/x.tar.gz /x\n"},
		{"docker", "FROM golang:1.24 AS build\nARG APPGEN_SECRET_KEY\n"},
		{"docker", "FROM golang:1.24 AS build\nONBUILD RUN id\n"},
		{"kubernetes", "volumes:\n- name: root\n  hostPath:\n    path: /\n"},
		{"kubernetes", "securityContext:\n  privileged: true\n"},
		{"kubernetes", "data:\n  site.conf: |\n    include /etc/passwd;\n"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			r, err := Options{Target: tt.target}.resolve()
			if err != nil {
				t.Fatal(err)
			}
			_, err = checkText(context.Background(), r, []byte(tt.text))
			if err == nil || !strings.Contains(err.Error(), "which appgen never writes") {
				t.Errorf("checkText = %v, want a refusal before any validator runs", err)
			}
		})
	}
}

// TestCheckH2ORefusesUnaskedSpawn pins that --check never hands h2o a fastcgi.spawn that
// Options did not ask for (h2o would run it when it starts), and passes it with --spawn.
func TestCheckH2ORefusesUnaskedSpawn(t *testing.T) {
	text := "hosts:\n  'default':\n    paths:\n      '/':\n        fastcgi.spawn: 'exec /bin/touch /tmp/appgen-pwned'\n"
	r, err := Options{Target: "h2o"}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := checkText(context.Background(), r, []byte(text)); err == nil || !strings.Contains(err.Error(), "only with --spawn") {
		t.Errorf("checkText = %v, want a refusal of fastcgi.spawn", err)
	}
	webserver.RequireProgram(t, "h2o")
	if _, err := Check(context.Background(), Options{Target: "h2o", Spawn: true}); err != nil {
		t.Errorf("Check(--spawn) = %v, want it to pass", err)
	}
}
