package serverconf

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Program names a web server this package can run; the value is its executable's name.
type Program string

// The servers this package knows, by their Debian executable names.
const (
	Nginx    Program = "nginx"
	Apache   Program = "apache2"
	Lighttpd Program = "lighttpd"
	// Cherokee is not packaged by Debian: LookPath finds it through CherokeeEnv, PATH or
	// CherokeeDefault.
	Cherokee Program = "cherokee"
	// H2O runs from one complete configuration file, with no main configuration to
	// include a site from: CheckFile checks it; MainConfig, WriteConfig and Check refuse it.
	H2O Program = "h2o"
)

// Programs lists every Program, in the order tests usually run them.
var Programs = []Program{Nginx, Apache, Lighttpd, Cherokee}

// CherokeeEnv names the environment variable that, when set, is the path of the cherokee
// program LookPath returns (and nothing else: a wrong path is an error, not a fallback).
const CherokeeEnv = "APPGEN_CHEROKEE"

// CherokeeDefault is where LookPath looks for cherokee last: the prefix Cherokee's own
// build installs into when told `--prefix=/opt/cherokee`, as this project's CI does.
const CherokeeDefault = "/opt/cherokee/sbin/cherokee"

// ApacheModuleDir is where Debian's apache2 package keeps its modules; MainConfig loads
// modules from here because a self-contained configuration cannot use mods-enabled.
const ApacheModuleDir = "/usr/lib/apache2/modules"

// DefaultApacheModules are the modules MainConfig loads when Config.Modules is nil: enough
// for every site `appgen config` writes (proxying with each protocol, balancers, rewrites,
// static aliases and mod_fcgid).
var DefaultApacheModules = []string{
	"mpm_event", "authz_core", "authz_host", "alias", "dir", "mime", "env", "rewrite",
	"setenvif", "headers", "proxy", "proxy_fcgi", "proxy_scgi", "proxy_ajp", "proxy_http",
	"proxy_balancer", "slotmem_shm", "lbmethod_byrequests", "fcgid",
}

// DefaultLighttpdModules are the modules MainConfig loads when Config.Modules is nil.
// mod_rewrite comes first so that rewrites happen before a handler claims the request.
var DefaultLighttpdModules = []string{
	"mod_access", "mod_alias", "mod_redirect", "mod_rewrite", "mod_setenv", "mod_fastcgi", "mod_scgi",
	"mod_proxy", "mod_staticfile",
}

// Config describes one instance: where it lives, where it listens, and the site it serves.
type Config struct {
	// Program is the server to run. Required.
	Program Program
	// Dir is the instance's directory: the main configuration, pid file, logs and temp
	// files go there. Required; it must exist (TempDir makes a suitable one).
	Dir string
	// Port is the loopback port the server listens on (127.0.0.1). Required for Apache,
	// lighttpd and Cherokee, whose main configuration holds the listening address; nginx takes it from
	// the site's own listen directive, so there it is used only to wait for the server.
	Port int
	// Site is the site part of the configuration, included from the main configuration:
	// nginx: text at http{} level (server and upstream blocks); Apache: server-level
	// directives (a <VirtualHost *:PORT>, or directives for the main server); lighttpd:
	// any configuration text; Cherokee: cherokee.conf keys, with at least the virtual
	// server nicknamed "default" (Cherokee refuses to start without one). Empty means a site with no directives of its own.
	Site string
	// Modules lists the modules to load. For Apache, names as in mods-available ("proxy_fcgi"),
	// loaded from ApacheModuleDir; for lighttpd, plugin names ("mod_fastcgi"). Nil means
	// DefaultApacheModules or DefaultLighttpdModules; nginx ignores it (its modules are built in).
	Modules []string
	// DocumentRoot is the main server's document root. Empty means Dir/htdocs, created by
	// WriteConfig.
	DocumentRoot string
}

// File names inside Config.Dir: the main configuration, the site it includes, and the
// server's error log.
const (
	MainConfigName = "server.conf"
	siteConfigName = "site.conf"
	ErrorLogName   = "error.log"
)

// LookPath finds program in PATH or in /usr/sbin and /sbin, where Debian installs servers
// but where a non-root PATH often does not look. For cherokee, which no Debian package
// provides, $APPGEN_CHEROKEE (CherokeeEnv) comes first and CherokeeDefault last.
func LookPath(program string) (string, error) {
	if program == string(Cherokee) {
		if env := os.Getenv(CherokeeEnv); env != "" {
			if !isExecutable(env) {
				return "", fmt.Errorf("serverconf: %s=%q: want the path of an executable cherokee program", CherokeeEnv, env)
			}
			return env, nil
		}
	}
	if p, err := exec.LookPath(program); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, program)
		if isExecutable(p) {
			return p, nil
		}
	}
	if program == string(Cherokee) {
		if isExecutable(CherokeeDefault) {
			return CherokeeDefault, nil
		}
		return "", fmt.Errorf("serverconf: program %q not found in $%s, PATH, /usr/sbin, /sbin or %s", program, CherokeeEnv, filepath.Dir(CherokeeDefault))
	}
	return "", fmt.Errorf("serverconf: program %q not found in PATH, /usr/sbin or /sbin", program)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// MainConfig returns the text of a self-contained main configuration for c that includes
// the site from Dir/site.conf. It checks that c names a known program, an existing
// directory and a valid port, and for Apache that every module file exists.
func MainConfig(c Config) (string, error) {
	if err := c.validate(); err != nil {
		return "", err
	}
	dir := c.Dir
	site := filepath.Join(dir, siteConfigName)
	docroot := c.documentRoot()
	switch c.Program {
	case Nginx:
		return nginxMain(dir, site), nil
	case Apache:
		mods := c.Modules
		if mods == nil {
			mods = DefaultApacheModules
		}
		var load strings.Builder
		for _, m := range mods {
			so := filepath.Join(ApacheModuleDir, "mod_"+m+".so")
			if _, err := os.Stat(so); err != nil {
				return "", fmt.Errorf("serverconf: apache module %q is not installed: %s is missing", m, so)
			}
			fmt.Fprintf(&load, "LoadModule %s_module %s\n", m, so)
		}
		return apacheMain(dir, docroot, c.Port, load.String(), hasModule(mods, "fcgid"), site), nil
	case Lighttpd:
		mods := c.Modules
		if mods == nil {
			mods = DefaultLighttpdModules
		}
		return lighttpdMain(dir, docroot, c.Port, mods, site), nil
	case Cherokee:
		return cherokeeMain(dir, c.Port, site), nil
	}
	panic("unreachable: validate accepted program " + string(c.Program))
}

func hasModule(mods []string, name string) bool {
	for _, m := range mods {
		if m == name {
			return true
		}
	}
	return false
}

func (c Config) validate() error {
	switch c.Program {
	case Nginx, Apache, Lighttpd, Cherokee:
	default:
		return fmt.Errorf("serverconf: unknown program %q, want one of nginx, apache2, lighttpd, cherokee", c.Program)
	}
	if c.Dir == "" || !filepath.IsAbs(c.Dir) {
		return fmt.Errorf("serverconf: directory %q must be an absolute path", c.Dir)
	}
	if fi, err := os.Stat(c.Dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("serverconf: directory %q does not exist", c.Dir)
	}
	if c.Port < 1 || c.Port > 65535 {
		if c.Program != Nginx || c.Port != 0 {
			return fmt.Errorf("serverconf: port %d out of range 1-65535", c.Port)
		}
	}
	return nil
}

func (c Config) documentRoot() string {
	if c.DocumentRoot != "" {
		return c.DocumentRoot
	}
	return filepath.Join(c.Dir, "htdocs")
}

// WriteConfig writes the main configuration and the site into c.Dir, creates the
// directories they name, and returns the main configuration's path.
func WriteConfig(c Config) (string, error) {
	text, err := MainConfig(c)
	if err != nil {
		return "", err
	}
	dirs := []string{c.documentRoot()}
	switch c.Program {
	case Nginx:
		dirs = append(dirs, filepath.Join(c.Dir, "tmp"))
	case Apache:
		dirs = append(dirs, filepath.Join(c.Dir, "fcgid"))
	}
	for _, d := range dirs {
		// 0755: nginx's workers and mod_fcgid's children may run as another user.
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("serverconf: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(c.Dir, siteConfigName), []byte(c.Site), 0o644); err != nil {
		return "", fmt.Errorf("serverconf: %w", err)
	}
	main := filepath.Join(c.Dir, MainConfigName)
	if err := os.WriteFile(main, []byte(text), 0o644); err != nil {
		return "", fmt.Errorf("serverconf: %w", err)
	}
	return main, nil
}

// CheckArgs returns the command line that checks the configuration at path with the
// server's own validator.
func CheckArgs(p Program, dir, path string) []string {
	switch p {
	case Nginx:
		return []string{"-t", "-q", "-p", dir, "-c", path}
	case Apache:
		return []string{"-t", "-f", path}
	case Cherokee:
		return []string{"-t", "-C", path}
	case H2O:
		return []string{"-t", "-c", path}
	default:
		return []string{"-tt", "-f", path}
	}
}

// ErrCheck wraps the output of a server's validator when it rejects a configuration.
var ErrCheck = errors.New("configuration rejected")

// Check writes c's configuration into c.Dir and runs the server's own validator on it
// (`nginx -t`, `apache2 -t -f`, `lighttpd -tt -f`, `cherokee -t -C`). A rejection is an error wrapping ErrCheck
// and carrying the validator's output. Check does not notice everything: Apache's -t accepts
// a proxy to a scheme whose module is not loaded, and lighttpd's -tt a misspelled key.
func Check(c Config) error {
	exe, err := LookPath(string(c.Program))
	if err != nil {
		return err
	}
	path, err := WriteConfig(c)
	if err != nil {
		return err
	}
	out, err := exec.Command(exe, CheckArgs(c.Program, c.Dir, path)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("serverconf: %s %s: %w: %v\n%s", exe, strings.Join(CheckArgs(c.Program, c.Dir, path), " "), ErrCheck, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// CheckFile runs the validator of p on the complete configuration file at path, as it is
// (`h2o -t -c path`), for the servers whose configuration is one file that names
// everything itself. A rejection is an error wrapping ErrCheck and carrying the
// validator's output.
func CheckFile(p Program, path string) error {
	if p != H2O {
		return fmt.Errorf("serverconf: CheckFile: program %q has a main configuration, want h2o (use Check)", p)
	}
	if !filepath.IsAbs(path) {
		return fmt.Errorf("serverconf: configuration %q must be an absolute path", path)
	}
	exe, err := LookPath(string(p))
	if err != nil {
		return err
	}
	args := CheckArgs(p, filepath.Dir(path), path)
	out, err := exec.Command(exe, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("serverconf: %s %s: %w: %v\n%s", exe, strings.Join(args, " "), ErrCheck, err, strings.TrimSpace(string(out)))
	}
	return nil
}
