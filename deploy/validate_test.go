package deploy

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestValidators(t *testing.T) {
	tests := []struct {
		name  string
		valid func(string) bool
		good  []string
		bad   []string
	}{
		{"host", ValidHost, []string{"127.0.0.1", "::1", "example.com", "a-b.example", "localhost"},
			[]string{"", "a b", "a;b", "-a.com", "a..b", "fe80::1%eth0", "[::1]", "a\nb", "é.com", "a_b"}},
		{"server name", ValidServerName, []string{"example.com", "*.example.com", "www.example.com"},
			[]string{"*.com", "*", "www.*.com", "a.com:80", "a.com;", "*example.com", "::1"}},
		{"port", ValidPort, []string{"1", "80", "65535"}, []string{"", "0", "65536", "+80", " 80", "8O", "080000"}},
		{"path", ValidPath, []string{"/", "/srv/mysite", "/a/b-c_d.e+f@g~h,i=j:k"},
			[]string{"", "srv", "/a b", "/a/../b", "/a$b", "/a%b", "/a'b", "/a\"b", "/a\\b", "/a;b", "/a#b", "/a\nb", "/a`b"}},
		{"url path", ValidURLPath, []string{"/", "/app", "/a/b.c-d_e~f/"},
			[]string{"", "app", "//", "/a//b", "/a/../b", "/a/./b", "/a b", "/a?b", "/a%20", "/a*b", "/a(b"}},
		{"secret", ValidSecret, []string{"s3cr3t", "YWJj+/=", "a-b_c.d~e:f@g"},
			[]string{"", "a b", "a'b", "a,b", "a;b", "a$b", strings.Repeat("a", 256)}},
		{"user", ValidUser, []string{"mysite", "_app", "www-data", "a1"},
			[]string{"", "Root", "1a", "a b", "a;b", "a$", strings.Repeat("a", 33)}},
		{"name", ValidName, []string{"mysite", "my-site", "My_Site2"}, []string{"", "1a", "my site", "a.b", strings.Repeat("a", 65)}},
		{"text", ValidText, []string{"", "appgen config nginx --prefix /app"}, []string{"a\nb", "a\\", "é", "a\x7fb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range tt.good {
				if !tt.valid(s) {
					t.Errorf("%q refused", s)
				}
			}
			for _, s := range tt.bad {
				if tt.valid(s) {
					t.Errorf("%q accepted", s)
				}
			}
		})
	}
	for _, tt := range []struct {
		in         string
		host, port string
		ok         bool
	}{
		{"80", "", "80", true},
		{"127.0.0.1:8080", "127.0.0.1", "8080", true},
		{"[::1]:80", "::1", "80", true},
		{"example.com:80", "example.com", "80", true},
		{"::1:80", "", "", false},
		{"[127.0.0.1]:80", "", "", false},
		{":80", "", "", false},
		{"*:80", "", "", false},
		{"127.0.0.1\ninclude_shell \"x\":80", "", "", false},
	} {
		h, p, ok := SplitListen(tt.in)
		if h != tt.host || p != tt.port || ok != tt.ok {
			t.Errorf("SplitListen(%q) = %q, %q, %v; want %q, %q, %v", tt.in, h, p, ok, tt.host, tt.port, tt.ok)
		}
	}
}

// FuzzValidators checks what every allow-list promises the quoting layer: an accepted value
// is printable ASCII, and each syntax it is written in carries it as one token.
func FuzzValidators(f *testing.F) {
	for _, s := range []string{"example.com", "*.example.com", "/srv/mysite", "/app", "127.0.0.1:80", "s3cr3t", "www-data", "a\nb", "'", "$(id)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, valid := range map[string]func(string) bool{
			"host": ValidHost, "server": ValidServerName, "port": ValidPort, "path": ValidPath,
			"url": ValidURLPath, "secret": ValidSecret, "user": ValidUser, "name": ValidName, "version": ValidVersion,
		} {
			if !valid(s) {
				continue
			}
			if !ValidText(s) || strings.ContainsAny(s, " \"'\\$%`;#{}|&<>()") {
				t.Fatalf("%s accepted %q, which holds a character some target treats specially", name, s)
			}
			for _, syn := range []string{"an nginx string", "an Apache argument", "a lighttpd string"} {
				if _, err := configString(syn, s, false, nil); err != nil {
					t.Fatalf("%s accepted %q but %v", name, s, err)
				}
			}
			if _, err := systemdValue(s); err != nil {
				t.Fatalf("%s accepted %q but %v", name, s, err)
			}
		}
		if _, _, ok := SplitListen(s); ok && !ValidText(s) {
			t.Fatalf("SplitListen accepted %q", s)
		}
	})
}

// FuzzQuote checks that whatever the quoting functions write reads back as the one token
// they were asked for.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"plain", "a'b", "a\"b", "a\\", "$(id)", "`id`", "a\nb", "a b", "%h", "${X}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if q, err := shellQuote(s); err == nil {
			have, err := directives(syntaxShell, "exec "+q)
			if want := []string{"W", "W"}; err != nil || !slices.Equal(have, want) {
				t.Fatalf("shell %q -> %s reads as %q, %v", s, q, have, err)
			}
		}
		if q, err := configString("an nginx string", s, false, nil); err == nil {
			have, err := directives(syntaxNginx, "root "+q+";")
			if want := []string{"root/0;"}; err != nil || !slices.Equal(have, want) {
				t.Fatalf("nginx %q -> %s reads as %q, %v", s, q, have, err)
			}
			have, err = directives(syntaxApache, "Alias "+q)
			if want := []string{"Alias/1"}; err != nil || !slices.Equal(have, want) {
				t.Fatalf("apache %q -> %s reads as %q, %v", s, q, have, err)
			}
			have, err = directives(syntaxLighttpd, "x = "+q)
			if want := []string{"x", "=", "S"}; err != nil || !slices.Equal(have, want) {
				t.Fatalf("lighttpd %q -> %s reads as %q, %v", s, q, have, err)
			}
		}
		if q, err := systemdArg(s); err == nil {
			have, err := directives(syntaxSystemd, "ExecStart=/bin/x "+q)
			if want := []string{"ExecStart/2"}; err != nil || !slices.Equal(have, want) {
				t.Fatalf("systemd %q -> %s reads as %q, %v", s, q, have, err)
			}
		}
		if q, err := systemdValue(s); err == nil {
			// One word or none, split where systemd splits (ASCII blanks only).
			have, err := directives(syntaxSystemd, "User="+q)
			n := len(systemdFields(s))
			if want := []string{"User/" + strconv.Itoa(n)}; err != nil || !slices.Equal(have, want) || n > 1 {
				t.Fatalf("systemd value %q -> %s reads as %q, %v", s, q, have, err)
			}
		}
		if q, err := caddyToken(s, nil); err == nil {
			have, err := directives(syntaxCaddy, "root * "+q)
			if want := []string{"root/WQ"}; err != nil || !slices.Equal(have, want) {
				t.Fatalf("caddy %q -> %s reads as %q, %v", s, q, have, err)
			}
		}
		if q, err := haproxyArg(s, false, nil); err == nil {
			have, err := directives(syntaxHAProxy, "docroot "+q)
			if want := []string{"docroot/Q"}; err != nil || !slices.Equal(have, want) {
				t.Fatalf("haproxy %q -> %s reads as %q, %v", s, q, have, err)
			}
		}
		if q, err := yamlScalar(s, nil); err == nil {
			have, err := directives(syntaxH2O, "file.dir: "+q)
			if want := []string{"file.dir/Q"}; err != nil || !slices.Equal(have, want) {
				t.Fatalf("h2o %q -> %s reads as %q, %v", s, q, have, err)
			}
			have, err = directives(syntaxH2O, "paths:\n  "+q+":\n    file.dir: 'x'")
			if want := []string{"paths/", "paths>Q/", "paths>Q>file.dir/Q"}; s != "" && (err != nil || !slices.Equal(have, want)) {
				t.Fatalf("h2o key %q -> %s reads as %q, %v", s, q, have, err)
			}
		}
		if q, err := cherokeeValue(s); err == nil {
			have, err := directives(syntaxCherokee, "a!b = "+q)
			if err != nil || len(have) != 1 {
				t.Fatalf("cherokee %q -> %s reads as %q, %v", s, q, have, err)
			}
		}
	})
}

// FuzzCaddyLines checks that the Caddyfile reader never panics and writes every directive
// as a name, '/', and one letter or brace per argument, whatever it reads.
func FuzzCaddyLines(f *testing.F) {
	fuzzEntries(f, caddyLines, "QWE{}", 0,
		"root * \"/srv\"\n", "\"http://:80\" {\n\tbind \"::1\"\n}\n", "a \"b\\\"c\" # x\n", "\"", "{$HOME} x", "a \"b\"c")
}

// FuzzHAProxyLines checks that the haproxy.cfg reader never panics and writes every
// directive as a name, '/', and one letter per argument, whatever it reads.
func FuzzHAProxyLines(f *testing.F) {
	fuzzEntries(f, haproxyLines, "QWE", 0,
		"docroot '/srv'\n", "bind \"$X\"", "acl a b -i 'x' # c", "'", "a \\'b", "server 'a''b' c%d")
}

// FuzzH2OKeys checks that the h2o.conf reader never panics and writes every key as a path
// of keys, '/', and at most one kind letter, whatever it reads.
func FuzzH2OKeys(f *testing.F) {
	fuzzEntries(f, h2oKeys, "QWE", 1,
		"listen:\n  port: 80\n", "hosts:\n  'a''b':\n    paths: {}\n", "a: !file x", "'", "- x", "a: 'b' # c\r  d: e", "a:\u2028b: c")
}

// fuzzEntries fuzzes a directive reader from seeds: whatever read accepts, every entry must
// be a name, '/', and letters from kinds only (at most limit of them; 0: any number).
func fuzzEntries(f *testing.F, read func(string) ([]string, error), kinds string, limit int, seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		list, err := read(s)
		if err != nil {
			return
		}
		for _, d := range list {
			i := strings.LastIndexByte(d, '/')
			if i <= 0 || limit > 0 && len(d[i+1:]) > limit || strings.Trim(d[i+1:], kinds) != "" {
				t.Fatalf("reading %q gave %q: want NAME/letters of %q", s, list, kinds)
			}
		}
	})
}

// TestReadersSplitAsServersDo pins that the systemd and Apache readers split where the
// servers do, at ASCII blanks only: the systemd reader counted "0\u00850" as two words
// (strings.Fields), which systemd reads as one, and the Apache reader took "a\vb" for one
// argument, which apr_isspace splits in two.
func TestReadersSplitAsServersDo(t *testing.T) {
	tests := []struct {
		syntax *syntax
		text   string
		want   []string
	}{
		{syntaxSystemd, "User=0\u00850", []string{"User/1"}},
		{syntaxSystemd, "After=a\u00a0b.service c.service", []string{"After/2"}},
		{syntaxSystemd, "User=0\u0085", []string{"User/1"}},
		{syntaxApache, "Alias a\vb", []string{"Alias/2"}},
		{syntaxApache, "Alias a\u00a0b", []string{"Alias/1"}},
	}
	for _, tt := range tests {
		t.Run(tt.syntax.name, func(t *testing.T) {
			have, err := directives(tt.syntax, tt.text)
			if err != nil || !slices.Equal(have, tt.want) {
				t.Errorf("%s reads %q as %q, %v; want %q", tt.syntax, tt.text, have, err, tt.want)
			}
		})
	}
}
