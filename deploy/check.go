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

// onlyKnownDirectives refuses an output holding a directive its target never writes.
func onlyKnownDirectives(target, text string) error {
	s := targetByName[target].syntax
	list, err := directives(s, text)
	if err != nil {
		return fmt.Errorf("deploy: %w: %v", ErrCheckFailed, err)
	}
	if s.known == nil {
		return nil // sh -n and the Cherokee key check run nothing
	}
	for _, d := range list {
		s := s
		if rest, ok := strings.CutPrefix(d, "nginx."); ok && s == syntaxYAML {
			// The nginx site a ConfigMap carries is read as nginx reads it.
			d, s = rest, syntaxNginx
		}
		name := d
		if i := strings.LastIndexByte(d, '/'); i >= 0 {
			name = d[:i]
		}
		if d == "}" || s.free != nil && s.free(name) {
			continue // a block's end, a map's entries, a value
		}
		if s == syntaxH2O && strings.HasSuffix(d, "/E") {
			return fmt.Errorf("deploy: %w: %s output holds %q with a value YAML or h2o expands (a tag, an alias, a flow or an escape), which appgen never writes; refusing to hand it to a validator", ErrCheckFailed, target, name)
		}
		if !containsString(s.known, name) {
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
