package doctest

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// invokes matches a line that runs appgen or a generated project's binary: at the start of
// the line or after && ; | ( or exec, past a "$ " prompt and VAR=value assignments, the word
// appgen, a path ending in /mysite, or `go run .`.
var invokes = regexp.MustCompile(`(?:^|&&|\|\||;|\||\(|\bexec)\s*(?:\$\s+)?(?:[A-Za-z_][A-Za-z0-9_]*=(?:'[^']*'|"[^"]*"|\S*)\s+)*(?:appgen|['"]?\S*/mysite['"]?|go\s+run\s+\.)(?:\s|$)`)

// coverage is the reviewed list of the guides' blocks that invoke appgen or a project's
// binary, by file and first line: the test that runs the block, or (after "not run: ") why
// no test can run it here. TestDocBlocksCovered fails for a block missing from this list and
// for an entry whose block is gone, so a new recipe cannot go untested by accident.
var coverage = map[[2]string]string{
	{"README.md", "go run . startproject mysite /tmp/mysite && cd /tmp/mysite && go run . runserver"}: "not run: runserver serves in the foreground until Ctrl-C; TestDeployGuide runs startproject and the site",

	{"docs/deploy.md", `appgen startproject mysite "$SITE_DIR"`}: "TestDeployGuide",
	{"docs/deploy.md", `cd "$SITE_DIR"`}:                         "TestDeployGuide",

	{"docs/upgrade.md", "appgen upgrade --dry-run"}:        "TestUpgradeRealProject",
	{"docs/upgrade.md", "appgen upgrade --template ../v2"}: "TestScripts",

	{"docs/project.md", "$ APPGEN_SETTINGS=nope ./mysite runserver"}:                     "TestConsoleBlocks",
	{"docs/project.md", "go test ./...            # the settings and the site, offline"}: "TestConsoleBlocks",

	{"docs/settings.md", "$ APPGEN_SETTINGS=prod ./mysite runserver"}: "TestConsoleBlocks",
	{"docs/settings.md", "APPGEN_SETTINGS=production \\"}:             "not run: reads the key from /etc/mysite/secret and serves in the foreground; TestDeployGuide runs runfcgi with the production environment",
	{"docs/settings.md", "$ APPGEN_SETTINGS=production APPGEN_ALLOWED_HOSTS='*' APPGEN_SECRET_KEY=abcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcde ./mysite check --deploy"}: "TestConsoleBlocks",

	{"docs/startproject.md", "appgen startproject NAME [DIRECTORY] [--module PATH] [--template DIR|FILE.zip|FILE.tar.gz] [--dry-run]"}: "not run: the synopsis, not a command",
	{"docs/startproject.md", "appgen startproject mysite"}:                                                                             "not run: runserver serves in the foreground until Ctrl-C; TestScripts (startproject.txtar) runs startproject",
	{"docs/startproject.md", "$ appgen startproject --dry-run mysite"}:                                                                 "TestScripts",

	{"docs/runfcgi.md", "./mysite runfcgi [key=value ...]"}:                                                       "not run: the synopsis, not a command",
	{"docs/runfcgi.md", "./mysite runfcgi method=threaded host=127.0.0.1 port=3033"}:                              "TestDocsCommandsParse",
	{"docs/runfcgi.md", "./mysite runfcgi method=prefork socket=/home/user/mysite.sock pidfile=mysite.pid"}:       "TestDocsCommandsParse",
	{"docs/runfcgi.md", "./mysite runfcgi socket=/run/mysite/mysite.sock socket_group=www-data socket_mode=0660"}: "TestDocsCommandsParse",
	{"docs/runfcgi.md", "./mysite runfcgi daemonize=false socket=/tmp/mysite.sock maxrequests=1 debug=true"}:      "TestDocsCommandsParse",
	{"docs/runfcgi.md", "./mysite runfcgi protocol=scgi method=prefork host=127.0.0.1 port=8025"}:                 "TestDocsCommandsParse",
	{"docs/runfcgi.md", "#!/bin/sh"}: "not run: a launcher for mod_fcgid under /home/user/myproject; TestGeneratedProject runs the launcher startproject writes",

	{"docs/servers/README.md", "appgen config SERVER [--protocol fcgi|scgi|ajp|http]"}:                                                                "not run: the synopsis, not a command",
	{"docs/servers/apache.md", "apt-get install libapache2-mod-fcgid"}:                                                                                "TestGuides",
	{"docs/servers/apache.md", "cd ~/mysite"}:                                                                                                         "TestGuides",
	{"docs/servers/cherokee.md", "appgen config cherokee --server-name example.com > mysite-cherokee.conf"}:                                           "TestGuides",
	{"docs/servers/daemon.md", "./mysite runfcgi method=threaded host=127.0.0.1 port=3033 daemonize=false"}:                                           "TestDocsCommandsParse",
	{"docs/servers/daemon.md", "useradd --system --home-dir /srv/mysite --shell /usr/sbin/nologin mysite"}:                                            "TestGuides",
	{"docs/servers/daemon.md", "appgen config restart -o restart.sh && ./restart.sh"}:                                                                 "TestGuides",
	{"docs/servers/lighttpd.md", "cd ~/mysite"}:                                                                                                       "TestGuides",
	{"docs/servers/lighttpd.md", "(cd ~/site1 && appgen config lighttpd --server-name www.example1.com)  > /etc/lighttpd/conf-enabled/50-site1.conf"}: "TestGuides",
	{"docs/servers/lighttpd.md", "# ~/mysite/mysite.fcgi is the launcher startproject wrote (appgen config fcgi writes another)"}:                     "TestGuides",
	{"docs/servers/caddy.md", "cd ~/mysite"}:                                                                                                          "TestGuides",
	{"docs/servers/caddy.md", "appgen config caddy --listen 127.0.0.1:8080 > Caddyfile"}:                                                              "TestGuides",
	{"docs/servers/cherokee.md", "appgen config cherokee --server-name example.com --check"}:                                                          "TestGuides",
	{"docs/servers/h2o.md", "cd ~/mysite"}:                                                                                                            "TestGuides",
	{"docs/servers/h2o.md", "appgen config h2o --listen 127.0.0.1:8080 > h2o.conf"}:                                                                   "TestGuides",
	{"docs/servers/h2o.md", "# ~/mysite/mysite.fcgi is the launcher startproject wrote (appgen config fcgi writes another)"}:                          "TestGuides",
	{"docs/servers/haproxy.md", "cd ~/mysite"}:                                                                                                        "TestGuides",
	{"docs/servers/haproxy.md", "appgen config haproxy --listen 127.0.0.1:8080 > haproxy.cfg"}:                                                        "TestGuides",
	{"docs/servers/nginx.md", "cd ~/mysite"}:                                                                                                          "TestGuides",
	{"docs/servers/shared-hosting.md", "GOOS=linux GOARCH=amd64 go build -o mysite .          # on your machine"}:                                     "TestGuides",

	{"docs/servers/docker.md", "cd ~/mysite"}:                                                                                                                "TestGuides",
	{"docs/servers/docker.md", "appgen config docker --protocol http --server-name example.com"}:                                                             "TestGuides",
	{"docs/servers/kubernetes.md", "cd ~/mysite"}:                                                                                                            "TestGuides",
	{"docs/servers/kubernetes.md", "appgen config kubernetes --protocol http --server-name example.com"}:                                                     "TestGuides",
	{"docs/scaling.md", "cd ~/mysite"}:                                                                                                                       "TestGuides",
	{"docs/scaling.md", "appgen config systemd --host 10.0.0.11 --port 3033 > mysite.service"}:                                                               "TestGuides",
	{"docs/scaling.md", "appgen config nginx --server-name example.com --listen 8080 --backend 10.0.0.11:3033 --backend 10.0.0.12:3033 > mysite-nginx.conf"}: "TestGuides",
	{"docs/scaling.md", "appgen config docker -o Dockerfile"}:                                                                                                "TestGuides",
}

// guidePages are the pages whose blocks are users' recipes: README.md and docs/, with
// docs/servers/.
func guidePages(t *testing.T) []string {
	t.Helper()
	root := repoRoot(t)
	pages := []string{"README.md"}
	for _, pattern := range []string{"docs/*.md", "docs/servers/*.md"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m {
			rel, _ := filepath.Rel(root, p)
			pages = append(pages, filepath.ToSlash(rel))
		}
	}
	return pages
}

// TestDocBlocksCovered lists every sh, console or unlabelled block of the guides that invokes
// appgen or a project's binary, and fails for one that no test runs and that no entry of
// coverage explains (issue 10: a documented recipe is run by a test, or says why it cannot).
// The tests named in coverage must exist in the repository.
func TestDocBlocksCovered(t *testing.T) {
	root := repoRoot(t)
	found := map[[2]string]bool{}
	for _, page := range guidePages(t) {
		data, err := os.ReadFile(filepath.Join(root, page))
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range Blocks(string(data)) {
			if b.Lang != "sh" && b.Lang != "console" && b.Lang != "" {
				continue
			}
			if !invokesProgram(b.Text) {
				continue
			}
			key := [2]string{page, b.First()}
			found[key] = true
			if _, ok := coverage[key]; !ok {
				t.Errorf("%s:%d: no test runs the block starting %q: run it from a test and add it to coverage, or say there why it cannot run", page, b.Line, b.First())
			}
		}
	}
	tests := testNames(t, root)
	var keys [][2]string
	for k := range coverage {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	for _, k := range keys {
		by := coverage[k]
		if !found[k] {
			t.Errorf("coverage lists %s %q, but no such block invokes appgen or the project there now", k[0], k[1])
		}
		if reason, ok := strings.CutPrefix(by, "not run: "); ok {
			if reason == "" {
				t.Errorf("coverage: %s %q is not run and says no reason", k[0], k[1])
			}
			continue
		}
		if !tests[by] {
			t.Errorf("coverage: %s %q is run by %s, which is no test in the repository", k[0], k[1], by)
		}
	}
}

func invokesProgram(text string) bool {
	for _, l := range strings.Split(text, "\n") {
		if invokes.MatchString(strings.TrimSpace(l)) {
			return true
		}
	}
	return false
}

var testFunc = regexp.MustCompile(`(?m)^func (Test\w+)\(t \*testing\.T\)`)

// testNames is every Test function of the repository's two modules.
func testNames(t *testing.T, root string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range testFunc.FindAllSubmatch(b, -1) {
			names[string(m[1])] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestInvokes pins which lines count as running appgen or the project.
func TestInvokes(t *testing.T) {
	for line, want := range map[string]bool{
		"appgen config nginx":                        true,
		"$ appgen startproject --dry-run mysite":     true,
		"APPGEN_SETTINGS=x ./mysite check":           true,
		"cd ~/mysite && appgen config fcgi":          true,
		"exec '/srv/mysite/mysite' runfcgi":          true,
		"go run . runserver":                         true,
		"(cd ~/site1 && appgen config lighttpd) > f": true,
		"cd ~/mysite":                                false,
		"appgen: generator: target exists":           false,
		"go test ./...":                              false,
		"install -m 0644 mysite.service /etc/x":      false,
		"mysite/":                                    false,
	} {
		t.Run(line, func(t *testing.T) {
			if got := invokes.MatchString(line); got != want {
				t.Errorf("invokes(%q) = %v, want %v", line, got, want)
			}
		})
	}
}
