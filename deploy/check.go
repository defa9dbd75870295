package deploy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/appgen/appgen/deploy/serverconf"
	"github.com/appgen/appgen/templates"
)

// ErrCheckUnavailable is returned (wrapped) by Check when the validator a target needs is
// not installed here; the message says which package provides it.
var ErrCheckUnavailable = errors.New("validator not available")

// ErrCheckFailed is returned (wrapped) by Check when the validator rejects the output; the
// message carries the validator's own words.
var ErrCheckFailed = errors.New("check failed")

// apacheEnabledDir is where Debian keeps Apache's enabled modules; Check reports a module
// that is installed but not enabled there.
var apacheEnabledDir = "/etc/apache2/mods-enabled"

// Check renders o and validates the result with the real server's own checker in a
// throwaway directory: `nginx -t`, `apache2 -t -f`, `lighttpd -tt -f` on a minimal main
// configuration that includes it, `sh -n` for scripts, `systemd-analyze verify` for units,
// and `cherokee -t` (or, where Cherokee is not installed, its documented key structure) for
// cherokee. It returns notes worth telling the user even when the check passes (a module
// installed but not enabled in /etc/apache2, a structure-only check). It never reads or
// changes the system's server configuration.
//
// Check takes Options, not text, so that what it hands a validator is always appgen's own
// rendering of checked, quoted values; and before running anything it reads the output back
// with its target's lexer and refuses any directive the target never writes (lighttpd's
// include_shell, Apache's piped logs, a unit's ExecStartPre=): a validator that loads
// modules or includes files must never be given a configuration that could run a command.
func Check(ctx context.Context, o Options) (notes []string, err error) {
	r, err := o.resolve()
	if err != nil {
		return nil, err
	}
	text, err := renderWith(templates.Deploy, r)
	if err != nil {
		return nil, err
	}
	return checkText(ctx, r, text)
}

func checkText(ctx context.Context, r *resolved, text []byte) (notes []string, err error) {
	if err := onlyKnownDirectives(r.Target, string(text)); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "appgen-check-")
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	defer os.RemoveAll(dir)
	switch r.Target {
	case "nginx":
		return nil, checkServer(serverconf.Config{Program: serverconf.Nginx, Dir: dir, Site: string(text)})
	case "lighttpd":
		return nil, checkServer(serverconf.Config{Program: serverconf.Lighttpd, Dir: dir, Port: 8080, Site: string(text)})
	case "apache", "apache-fcgid", "htaccess":
		mods := append([]string{"mpm_event", "authz_core", "mime"}, strings.Fields(r.ApacheModules())...)
		for _, m := range mods {
			if _, err := os.Stat(filepath.Join(serverconf.ApacheModuleDir, "mod_"+m+".so")); err != nil {
				pkg := "apache2"
				if m == "fcgid" {
					pkg = "libapache2-mod-fcgid"
				}
				return nil, fmt.Errorf("deploy: %w: Apache module %s is not installed (apt-get install %s)", ErrCheckUnavailable, m, pkg)
			}
			if m == "mpm_event" {
				continue
			}
			if _, err := os.Stat(filepath.Join(apacheEnabledDir, m+".load")); err != nil {
				notes = append(notes, fmt.Sprintf("Apache module %s is installed but not enabled: a2enmod %s", m, m))
			}
		}
		site := string(text)
		if r.Target == "htaccess" {
			// apache2 -t never reads .htaccess files; the same directives in a <Directory>
			// block are checked. (What AllowOverride permits is only seen by a request: the
			// end-to-end test serves the file under AllowOverride FileInfo Options.)
			site = "<Directory \"" + r.DocumentRoot + "\">\n" + site + "\n</Directory>\n"
		}
		return notes, checkServer(serverconf.Config{Program: serverconf.Apache, Dir: dir, Port: 8080, Modules: mods, Site: site})
	case "fcgi", "restart":
		return nil, checkCommand(ctx, "sh", "dash or bash", filepath.Join(dir, "script.sh"), text, "-n")
	case "systemd":
		err := checkCommand(ctx, "systemd-analyze", "systemd", filepath.Join(dir, r.Name+".service"), text, "verify")
		if err != nil && onlyMissingBinary(err.Error(), r.Binary) {
			// The unit is sound; the project is simply not installed on this machine.
			return []string{"the unit is valid, but " + r.Binary + " is not installed here yet"}, nil
		}
		return nil, err
	case "cherokee":
		if err := ValidateCherokee(text); err != nil {
			return nil, err
		}
		if _, err := exec.LookPath("cherokee"); err != nil {
			return []string{"Cherokee is not installed here: only the key structure was checked (against Cherokee 1.2's documented keys), not by cherokee -t"}, nil
		}
		return nil, checkCommand(ctx, "cherokee", "cherokee", filepath.Join(dir, "cherokee.conf"), text, "-t", "-C")
	}
	return nil, fmt.Errorf("deploy: no check for target %q", r.Target)
}

// knownDirectives are, per syntax, the directives (nginx, Apache), bare words (lighttpd)
// and settings (systemd) appgen's templates write; Check refuses any other.
var knownDirectives = map[syntax][]string{
	syntaxNginx: {"map", "upstream", "server", "keepalive", "listen", "server_name", "root", "location",
		"alias", "return", "try_files", "proxy_pass", "proxy_http_version", "proxy_set_header",
		"fastcgi_pass", "fastcgi_keep_conn", "fastcgi_param", "scgi_pass", "scgi_param"},
	syntaxApache: {"<VirtualHost", "</VirtualHost>", "ServerName", "ServerAlias", "DocumentRoot",
		"<Directory", "</Directory>", "Require", "Alias", "<Files", "</Files>", "SetHandler", "Options",
		"FcgidMaxRequestLen", "RewriteEngine", "RewriteRule", "RewriteCond", "RewriteBase", "SetEnvIf",
		"ProxyPassReverse", "ProxyPass", "RedirectMatch", "<Proxy", "</Proxy>", "ProxySet", "BalancerMember"},
	syntaxLighttpd: {"$HTTP", "server.document-root", "alias.url", "fastcgi.server", "scgi.server",
		"fastcgi.balance", "scgi.balance", "setenv.add-environment", "url.rewrite-once", "url.redirect",
		"url.rewrite-if-not-file"},
	syntaxSystemd: {"[Unit]", "[Service]", "[Install]", "Description", "After", "Type", "User", "Group",
		"SupplementaryGroups", "RuntimeDirectory", "RuntimeDirectoryMode", "WorkingDirectory",
		"Environment", "EnvironmentFile", "ExecStart", "KillSignal", "TimeoutStopSec", "Restart",
		"RestartSec", "NoNewPrivileges", "PrivateTmp", "ProtectSystem", "WantedBy"},
}

// onlyKnownDirectives refuses an output holding a directive its target never writes.
func onlyKnownDirectives(target, text string) error {
	s := syntaxOf[target]
	list, err := directives(s, text)
	if err != nil {
		return fmt.Errorf("deploy: %w: %v", ErrCheckFailed, err)
	}
	known := knownDirectives[s]
	if known == nil {
		return nil // sh -n and the Cherokee key check run nothing
	}
	for _, d := range list {
		name := d
		if i := strings.LastIndexByte(d, '/'); i >= 0 {
			name = d[:i]
		}
		if d == "}" || s == syntaxNginx && name == "K" || s == syntaxNginx && name == "default" {
			continue // a block's end, a map's entries
		}
		if s == syntaxLighttpd && (strings.IndexFunc(name, func(r rune) bool { return r < '0' || r > '9' }) < 0 || len(name) <= 2 && strings.Trim(name, "(){}[],=+!:~>") == "" || name == "S") {
			continue
		}
		if !containsString(known, name) {
			return fmt.Errorf("deploy: %w: %s output holds %q, which appgen never writes; refusing to hand it to a validator", ErrCheckFailed, target, name)
		}
	}
	return nil
}

// onlyMissingBinary reports whether systemd-analyze's only complaint is that ExecStart's
// program does not exist.
func onlyMissingBinary(out, binary string) bool {
	lines := strings.Split(out, "\n")
	complaints := 0
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			continue
		}
		complaints++
		if !strings.Contains(l, "Command "+binary+" is not executable") {
			return false
		}
	}
	return complaints > 0
}

func checkServer(c serverconf.Config) error {
	if _, err := serverconf.LookPath(string(c.Program)); err != nil {
		pkg := string(c.Program)
		return fmt.Errorf("deploy: %w: %s is not installed here (apt-get install %s)", ErrCheckUnavailable, c.Program, pkg)
	}
	if err := serverconf.Check(c); err != nil {
		if errors.Is(err, serverconf.ErrCheck) {
			return fmt.Errorf("deploy: %w: %v", ErrCheckFailed, err)
		}
		return fmt.Errorf("deploy: %w", err)
	}
	return nil
}

// checkCommand writes text to file and runs program with args and the file's name.
func checkCommand(ctx context.Context, program, pkg, file string, text []byte, args ...string) error {
	exe, err := exec.LookPath(program)
	if err != nil {
		return fmt.Errorf("deploy: %w: %s is not installed here (it comes with %s)", ErrCheckUnavailable, program, pkg)
	}
	if err := os.WriteFile(file, text, 0o644); err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	out, err := exec.CommandContext(ctx, exe, append(args, file)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("deploy: %w: %s %s: %v\n%s", ErrCheckFailed, program, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// cherokeeKey describes one key path of cherokee.conf that appgen writes, from Cherokee
// 1.2's documentation (config.html and the handler_fcgi, handler_scgi, handler_file,
// balancer_round_robin and rule pages). "N" stands for a number.
type cherokeeKey struct {
	path   string
	values []string // allowed values; nil means any non-empty value
}

var cherokeeKeys = []cherokeeKey{
	{"config!version", nil},
	{"server!bind!N!port", nil},
	{"server!bind!N!interface", nil},
	{"vserver!N!nick", nil},
	{"vserver!N!document_root", nil},
	{"vserver!N!match", []string{"wildcard", "rehost", "target_ip"}},
	{"vserver!N!match!domain!N", nil},
	{"vserver!N!rule!N!match", []string{"default", "directory", "exists", "extensions", "request", "header", "fullpath"}},
	{"vserver!N!rule!N!match!directory", nil},
	{"vserver!N!rule!N!match!final", []string{"0", "1"}},
	{"vserver!N!rule!N!match!match_any", []string{"0", "1"}},
	{"vserver!N!rule!N!document_root", nil},
	{"vserver!N!rule!N!handler", []string{"file", "common", "fcgi", "scgi", "proxy", "redir"}},
	{"vserver!N!rule!N!handler!check_file", []string{"0", "1"}},
	{"vserver!N!rule!N!handler!error_handler", []string{"0", "1"}},
	{"vserver!N!rule!N!handler!pass_req_headers", []string{"0", "1"}},
	{"vserver!N!rule!N!handler!balancer", []string{"round_robin", "ip_hash"}},
	{"vserver!N!rule!N!handler!balancer!source!N", nil},
	{"source!N!nick", nil},
	{"source!N!type", []string{"host", "interpreter"}},
	{"source!N!host", nil},
	{"source!N!interpreter", nil},
	{"source!N!env!*", nil},
}

// ValidateCherokee checks a cherokee.conf fragment against Cherokee's documented format,
// since no Cherokee is packaged to run it: every line is "key = value" with a known key
// path and an allowed value; every rule has a match and a handler; a balancer names sources
// that exist; every source has a nick, a type and a host, and an interpreter when its type
// says so; and each virtual server has exactly one default rule.
func ValidateCherokee(text []byte) error {
	values := map[string]string{}
	var order []string
	for i, line := range strings.Split(string(text), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, " = ")
		if !ok || strings.TrimSpace(value) == "" {
			return fmt.Errorf("deploy: cherokee line %d %q: want \"key!path = value\"", i+1, line)
		}
		if err := matchCherokeeKey(key, value); err != nil {
			return fmt.Errorf("deploy: cherokee line %d: %w", i+1, err)
		}
		if _, dup := values[key]; dup {
			return fmt.Errorf("deploy: cherokee line %d: key %s set twice", i+1, key)
		}
		values[key] = value
		order = append(order, key)
	}
	// Gather rules and sources.
	rules := map[string]bool{}   // vserver!N!rule!M
	sources := map[string]bool{} // source!N
	vservers := map[string]int{} // vserver!N -> default rules
	for _, key := range order {
		parts := strings.Split(key, "!")
		if parts[0] == "vserver" {
			vs := strings.Join(parts[:2], "!")
			if _, ok := vservers[vs]; !ok {
				vservers[vs] = 0
			}
			if len(parts) >= 4 && parts[2] == "rule" {
				rules[strings.Join(parts[:4], "!")] = true
			}
		}
		if parts[0] == "source" {
			sources[strings.Join(parts[:2], "!")] = true
		}
	}
	for rule := range rules {
		match, ok := values[rule+"!match"]
		if !ok {
			return fmt.Errorf("deploy: cherokee %s has no match", rule)
		}
		if _, ok := values[rule+"!handler"]; !ok {
			return fmt.Errorf("deploy: cherokee %s has no handler", rule)
		}
		if match == "directory" && values[rule+"!match!directory"] == "" {
			return fmt.Errorf("deploy: cherokee %s matches a directory but names none", rule)
		}
		if match == "default" {
			vservers[strings.Join(strings.Split(rule, "!")[:2], "!")]++
		}
		h := values[rule+"!handler"]
		if h == "fcgi" || h == "scgi" {
			if values[rule+"!handler!balancer"] == "" {
				return fmt.Errorf("deploy: cherokee %s: handler %s needs a balancer", rule, h)
			}
			n := 0
			for _, key := range order {
				if strings.HasPrefix(key, rule+"!handler!balancer!source!") {
					n++
					if !sources["source!"+values[key]] {
						return fmt.Errorf("deploy: cherokee %s = %s names a source that is not defined", key, values[key])
					}
				}
			}
			if n == 0 {
				return fmt.Errorf("deploy: cherokee %s: balancer has no source", rule)
			}
		}
	}
	for vs, defaults := range vservers {
		if values[vs+"!nick"] == "" || values[vs+"!document_root"] == "" {
			return fmt.Errorf("deploy: cherokee %s needs a nick and a document_root", vs)
		}
		if defaults != 1 {
			return fmt.Errorf("deploy: cherokee %s has %d default rules, want exactly 1", vs, defaults)
		}
	}
	for src := range sources {
		for _, k := range []string{"nick", "type", "host"} {
			if values[src+"!"+k] == "" {
				return fmt.Errorf("deploy: cherokee %s has no %s", src, k)
			}
		}
		if values[src+"!type"] == "interpreter" && values[src+"!interpreter"] == "" {
			return fmt.Errorf("deploy: cherokee %s is an interpreter source without an interpreter command", src)
		}
	}
	return nil
}

func matchCherokeeKey(key, value string) error {
	parts := strings.Split(key, "!")
	for _, k := range cherokeeKeys {
		pattern := strings.Split(k.path, "!")
		if !keyMatches(pattern, parts) {
			continue
		}
		if k.values != nil && !containsString(k.values, value) {
			return fmt.Errorf("%s = %s: want one of %s", key, value, strings.Join(k.values, ", "))
		}
		return nil
	}
	return fmt.Errorf("unknown key path %s", key)
}

func keyMatches(pattern, parts []string) bool {
	for i, p := range pattern {
		if p == "*" {
			return i == len(parts)-1 && parts[i] != ""
		}
		if i >= len(parts) {
			return false
		}
		if p == "N" {
			if n, err := strconv.Atoi(parts[i]); err != nil || n < 1 {
				return false
			}
			continue
		}
		if p != parts[i] {
			return false
		}
	}
	return len(pattern) == len(parts)
}
