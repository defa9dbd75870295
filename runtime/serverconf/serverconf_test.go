package serverconf_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appgen/appgen/runtime/serverconf"
	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

func TestCheckRejectsBadSite(t *testing.T) {
	bad := map[webserver.Program]string{
		webserver.Nginx:    "server { listen 127.0.0.1:1; no_such_directive on; }\n",
		webserver.Apache:   "NoSuchDirective on\n",
		webserver.Lighttpd: "server.document-root = \n",
		// Issue 13: what `appgen config cherokee --server-name` wrote, a lone vserver!10.
		webserver.Cherokee: "vserver!10!nick = example.com\nvserver!10!document_root = /srv\n" +
			"vserver!10!rule!1!match = default\nvserver!10!rule!1!handler = file\n",
	}
	for _, p := range webserver.Programs {
		t.Run(string(p), func(t *testing.T) {
			webserver.Require(t, p)
			dir := webserver.TempDir(t)
			err := serverconf.Check(serverconf.Config{Program: p, Dir: dir, Port: webserver.FreePort(t), Site: bad[p]})
			if !errors.Is(err, serverconf.ErrCheck) {
				t.Fatalf("Check(bad site) = %v, want an error wrapping ErrCheck", err)
			}
		})
	}
}

func TestMainConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		c    serverconf.Config
		want string
	}{
		{"unknown program", serverconf.Config{Program: "httpd", Dir: dir, Port: 80}, `unknown program "httpd"`},
		{"relative dir", serverconf.Config{Program: webserver.Nginx, Dir: "rel", Port: 80}, "must be an absolute path"},
		{"missing dir", serverconf.Config{Program: webserver.Nginx, Dir: filepath.Join(dir, "nope"), Port: 80}, "does not exist"},
		{"port", serverconf.Config{Program: webserver.Apache, Dir: dir, Port: 70000}, "port 70000 out of range"},
		{"apache module", serverconf.Config{Program: webserver.Apache, Dir: dir, Port: 80, Modules: []string{"no_such_thing"}}, `apache module "no_such_thing" is not installed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := serverconf.MainConfig(tt.c)
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
			text, err := serverconf.MainConfig(serverconf.Config{Program: p, Dir: dir, Port: 8080})
			if err != nil {
				t.Fatal(err)
			}
			for _, system := range []string{"/var/", "/run/"} {
				if strings.Contains(text, system) {
					t.Errorf("main config mentions %s:\n%s", system, text)
				}
			}
			// Checking must not run anything: Debian's lighttpd.conf builds its MIME types
			// with include_shell; this one lists them.
			if strings.Contains(text, "include_shell") {
				t.Errorf("main config runs a shell command:\n%s", text)
			}
			// Cherokee has no server-wide error log (errors go to stderr, which the harness keeps).
			if p != webserver.Cherokee && !strings.Contains(text, dir+"/error.log") {
				t.Errorf("main config does not log errors into %s:\n%s", dir, text)
			}
		})
	}
}

// TestLookPathCherokeeEnv: $APPGEN_CHEROKEE names the program when set, and a wrong value is
// an error naming the variable, not a quiet fall back to another cherokee.
func TestLookPathCherokeeEnv(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "my-cherokee")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "not-executable")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		env, want, wantErr string
	}{
		{exe, exe, ""},
		{plain, "", serverconf.CherokeeEnv + "="},
		{filepath.Join(dir, "missing"), "", "want the path of an executable cherokee program"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.env), func(t *testing.T) {
			t.Setenv(serverconf.CherokeeEnv, tt.env)
			got, err := serverconf.LookPath("cherokee")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LookPath = %q, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("LookPath = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestCheckFileH2O: `h2o -t -c` accepts a complete configuration and rejects one holding
// a directive h2o does not know, and CheckFile refuses the servers that have a main
// configuration.
func TestCheckFileH2O(t *testing.T) {
	dir := t.TempDir()
	good := "listen:\n  host: 127.0.0.1\n  port: 8080\nhosts:\n  default:\n    paths:\n      /:\n        file.dir: " + dir + "\n"
	tests := []struct {
		name, text string
		wantErr    bool
	}{
		{"complete", good, false},
		{"unknown directive", good + "no-such-directive: 1\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			webserver.RequireProgram(t, "h2o")
			path := filepath.Join(dir, "h2o.conf")
			if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			err := serverconf.CheckFile(serverconf.H2O, path)
			if tt.wantErr != (err != nil) || err != nil && !errors.Is(err, serverconf.ErrCheck) {
				t.Fatalf("CheckFile = %v, want error %v (wrapping ErrCheck)", err, tt.wantErr)
			}
		})
	}
	if err := serverconf.CheckFile(serverconf.Nginx, filepath.Join(dir, "nginx.conf")); err == nil || !strings.Contains(err.Error(), "want h2o") {
		t.Errorf("CheckFile(nginx) = %v, want a refusal", err)
	}
}
