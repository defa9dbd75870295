package deploy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/appgen/appgen/runtime/serverconf"
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
// `cherokee -t` (or, where Cherokee is not installed, its documented key structure) for
// cherokee, `caddy validate` for the Caddyfile, `haproxy -c` for haproxy.cfg and `h2o -t -c` for h2o.conf. It returns
// notes worth telling the user even when the check passes (a module installed but not
// enabled in /etc/apache2, a structure-only check). It never reads or changes the system's
// server configuration.
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
	text, err := renderWith(templateFS, r)
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
	return r.t.check(ctx, r, text, dir)
}

// knownDirectives are, per syntax, the directives (nginx, Apache), bare words (lighttpd)
// and settings (systemd) appgen's templates write; Check refuses any other.
var knownDirectives = map[*syntax][]string{
	syntaxNginx: {"map", "upstream", "server", "keepalive", "listen", "server_name", "root", "location",
		"alias", "return", "try_files", "proxy_pass", "proxy_http_version", "proxy_set_header",
		"fastcgi_pass", "fastcgi_keep_conn", "fastcgi_param", "scgi_pass", "scgi_param",
		"fastcgi_next_upstream", "fastcgi_next_upstream_tries", "fastcgi_connect_timeout", "scgi_next_upstream",
		"scgi_next_upstream_tries", "scgi_connect_timeout", "proxy_next_upstream", "proxy_next_upstream_tries",
		"proxy_connect_timeout"},
	syntaxApache: {"<VirtualHost", "</VirtualHost>", "ServerName", "ServerAlias", "DocumentRoot",
		"<Directory", "</Directory>", "Require", "Alias", "<Files", "</Files>", "SetHandler", "Options",
		"FcgidMaxRequestLen", "RewriteEngine", "RewriteRule", "RewriteCond", "RewriteBase", "SetEnvIf",
		"ProxyPassReverse", "ProxyPass", "RedirectMatch", "<Proxy", "</Proxy>", "ProxySet", "BalancerMember"},
	syntaxLighttpd: {"$HTTP", "server.document-root", "alias.url", "fastcgi.server", "scgi.server",
		"fastcgi.balance", "scgi.balance", "setenv.add-environment", "url.rewrite-once", "url.redirect",
		"url.rewrite-if-not-file"},
	syntaxCaddy: {"Q", "bind", "root", "route", "handle_path", "file_server", "redir", "@docroot_file", "file",
		"not", "handle", "reverse_proxy", "transport", "env", "lb_policy", "lb_try_duration", "fail_duration",
		"max_fails", "unhealthy_status"},
	syntaxHAProxy: {"global", "maxconn", "defaults", "mode", "timeout", "fcgi-app", "docroot", "path-info",
		"option", "frontend", "bind", "acl", "http-request", "default_backend", "backend", "use-fcgi-app",
		"balance", "retries", "retry-on", "default-server", "server", "http-reuse", "user", "group"},
	// h2o: every key path appgen writes, from the top ("Q" a quoted host or URL path).
	syntaxH2O: {"user", "listen", "listen>host", "listen>port", "hosts", "hosts>Q", "hosts>Q>paths",
		"hosts>Q>paths>Q", "hosts>Q>paths>Q>file.dir", "hosts>Q>paths>Q>file.dirlisting", "hosts>Q>paths>Q>redirect", "hosts>Q>paths>Q>redirect>url",
		"hosts>Q>paths>Q>redirect>status", "hosts>Q>paths>Q>fastcgi.connect", "hosts>Q>paths>Q>fastcgi.connect>host",
		"hosts>Q>paths>Q>fastcgi.connect>port", "hosts>Q>paths>Q>fastcgi.connect>type", "hosts>Q>paths>Q>fastcgi.spawn",
		"hosts>Q>paths>Q>fastcgi.timeout.keepalive", "hosts>Q>paths>Q>fastcgi.document_root",
		"hosts>Q>paths>Q>setenv", "hosts>Q>paths>Q>setenv>SCRIPT_NAME"},
	syntaxSystemd: {"[Unit]", "[Service]", "[Install]", "Description", "After", "Type", "User", "Group",
		"SupplementaryGroups", "RuntimeDirectory", "RuntimeDirectoryMode", "WorkingDirectory",
		"Environment", "EnvironmentFile", "ExecStart", "ExecReload", "NotifyAccess", "KillSignal", "TimeoutStopSec", "Restart",
		"RestartSec", "NoNewPrivileges", "PrivateTmp", "ProtectSystem", "WantedBy",
		"Requires", "[Socket]", "ListenStream", "SocketUser", "SocketGroup", "SocketMode", "DirectoryMode",
		"FileDescriptorName", "Service"},
}

// onlyKnownDirectives refuses an output holding a directive its target never writes.
func onlyKnownDirectives(target, text string) error {
	s := targetByName[target].syntax
	list, err := directives(s, text)
	if err != nil {
		return fmt.Errorf("deploy: %w: %v", ErrCheckFailed, err)
	}
	known := knownDirectives[s]
	if known == nil {
		return nil // sh -n and the Cherokee key check run nothing
	}
	for _, d := range list {
		s, known := s, known
		if rest, ok := strings.CutPrefix(d, "nginx."); ok && s == syntaxYAML {
			// The nginx site a ConfigMap carries is read as nginx reads it.
			d, s, known = rest, syntaxNginx, knownDirectives[syntaxNginx]
		}
		name := d
		if i := strings.LastIndexByte(d, '/'); i >= 0 {
			name = d[:i]
		}
		if d == "}" || s == syntaxCaddy && name == "}" || s == syntaxNginx && name == "K" || s == syntaxNginx && name == "default" {
			continue // a block's end, a map's entries
		}
		if s == syntaxLighttpd && (strings.IndexFunc(name, func(r rune) bool { return r < '0' || r > '9' }) < 0 || len(name) <= 2 && strings.Trim(name, "(){}[],=+!:~>") == "" || name == "S") {
			continue
		}
		if s == syntaxH2O && strings.HasSuffix(d, "/E") {
			return fmt.Errorf("deploy: %w: %s output holds %q with a value YAML or h2o expands (a tag, an alias, a flow or an escape), which appgen never writes; refusing to hand it to a validator", ErrCheckFailed, target, name)
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

// checkFile writes text to file and runs the shipped check (serverconf.CheckFile) on it, for
// a server whose configuration is one complete file (h2o).
func checkFile(p serverconf.Program, file string, text []byte) error {
	if _, err := serverconf.LookPath(string(p)); err != nil {
		return fmt.Errorf("deploy: %w: %s is not installed here (apt-get install %s)", ErrCheckUnavailable, p, p)
	}
	if err := os.WriteFile(file, text, 0o644); err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	if err := serverconf.CheckFile(p, file); err != nil {
		if errors.Is(err, serverconf.ErrCheck) {
			return fmt.Errorf("deploy: %w: %v", ErrCheckFailed, err)
		}
		return fmt.Errorf("deploy: %w", err)
	}
	return nil
}

// checkCommand writes text to file and runs program with args and the file's name.
func checkCommand(ctx context.Context, program, pkg, file string, text []byte, args ...string) error {
	return checkCommandEnv(ctx, nil, program, pkg, file, text, args...)
}

// checkCommandEnv is checkCommand with env added to the program's environment.
func checkCommandEnv(ctx context.Context, env []string, program, pkg, file string, text []byte, args ...string) error {
	exe, err := exec.LookPath(program)
	if err != nil {
		return fmt.Errorf("deploy: %w: %s is not installed here (it comes with %s)", ErrCheckUnavailable, program, pkg)
	}
	if err := os.WriteFile(file, text, 0o644); err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, append(args, file)...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("deploy: %w: %s %s: %v\n%s", ErrCheckFailed, program, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
