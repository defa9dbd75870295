package deploy

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/template"

	"github.com/appgen/appgen/internal/tmplfunc"
)

// templateFS holds every target's template and common.tmpl, the header they share.
//
//go:embed *.tmpl
var templateFS embed.FS

// target is one kind of output: which server it is for and what it can do.
type target struct {
	name      string
	summary   string
	protocols []string
	// usesBackends: the output names the app's addresses (false for the spawned targets).
	usesBackends bool
	// oneBackend: the output starts one process, so it listens on exactly one address.
	oneBackend bool
	// noBalance, when set, is why the target takes one backend only (h2o 2.2 cannot balance
	// FastCGI); the error for several says it.
	noBalance string
	// spawn: the server can start the app itself (Options.Spawn).
	spawn bool
	// template is the target's template file, beside its Go file in this package; its name
	// without .tmpl (with "NAME" replaced by the project name) is the file ProjectFiles
	// writes under deploy/.
	template string
	// file is the output's default file name when it is not the template's (a dot file,
	// which go:embed leaves out), or "".
	file string
	// program is the server program --check runs ("" when there is none to run).
	program string
	// syntax is the language of the output with the reader that lists its directives
	// (directives.go), for Check and the property test.
	syntax *syntax
	// fields are the Options fields that shape the output (besides Target, Version and
	// Command, which every target uses); callers offer only the inputs that set them.
	fields []string
	// companion is the target whose output goes beside this one's, named after it
	// (systemd's socket unit beside its service), or "" for none; see Companion.
	companion string
	// check runs the target's own validator on text in the throwaway directory dir and
	// returns notes for the user (see Check).
	check func(ctx context.Context, r *resolved, text []byte, dir string) (notes []string, err error)
	// onRequest: written only by appgen config, not into every new project by startproject
	// (ProjectFiles): an image or a cluster is a choice, not the default deployment.
	onRequest bool
}

// targets are every kind of output, in the order help lists them. Each is defined in its own
// file with what only it needs (nginx.go, apache.go, lighttpd.go, cherokee.go, scripts.go,
// systemd.go, caddy.go, haproxy.go, h2o.go) with its template beside it (nginx.conf.tmpl, ...);
// common.tmpl is the header every output shares.
var targets = []*target{
	apacheTarget, apacheFcgidTarget, htaccessTarget, fcgiTarget, lighttpdTarget,
	cherokeeTarget, nginxTarget, restartTarget, systemdTarget,
	systemdSocketTarget,
	caddyTarget, haproxyTarget,
	h2oTarget,
	dockerTarget, dockerignoreTarget, kubernetesTarget,
}

// Fields every target uses, and the groups targets share.
var (
	baseFields    = []string{"Name", "Dir", "Binary", "Protocol", "Settings"}
	backendFields = []string{"Backends", "WebGroup"}
	webFields     = []string{"ServerNames", "Listen", "Prefix", "StaticURL", "StaticRoot", "DocumentRoot"}
	// appEnvFields shape the app's environment (AppEnv) in the launcher, restart.sh and
	// the unit: the allowed hosts and, for AJP, the forced script name.
	appEnvFields = []string{"ServerNames", "Prefix"}
)

func fieldList(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// Uses reports whether target's output depends on the Options field named field, so that a
// caller offers only the inputs that matter ("Secret" for apache, not for nginx).
func Uses(target, field string) bool {
	t, ok := targetByName[target]
	return ok && slices.Contains(t.fields, field)
}

var targetByName = func() map[string]*target {
	m := make(map[string]*target, len(targets))
	for _, t := range targets {
		m[t.name] = t
	}
	return m
}()

// Targets returns the target names, in the order help lists them.
func Targets() []string {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.name
	}
	return names
}

// Summary returns a one-line description of a target, or "" for an unknown one.
func Summary(name string) string {
	if t, ok := targetByName[name]; ok {
		return t.summary
	}
	return ""
}

// ProtocolsFor returns the protocols a target accepts, or nil for an unknown one.
func ProtocolsFor(name string) []string {
	if t, ok := targetByName[name]; ok {
		return slices.Clone(t.protocols)
	}
	return nil
}

// DefaultFile returns the file name ProjectFiles gives a target's output for a project
// called name ("nginx.conf", "mysite.fcgi"), or "" for an unknown target.
func DefaultFile(target, name string) string {
	t, ok := targetByName[target]
	if !ok {
		return ""
	}
	if t.file != "" {
		return t.file
	}
	base := t.template[strings.LastIndexByte(t.template, '/')+1:]
	return strings.ReplaceAll(strings.TrimSuffix(base, ".tmpl"), "NAME", name)
}

// ErrTemplate wraps a failure of an embedded template; it is a bug in appgen, not in the input.
var ErrTemplate = errors.New("template failed")

// Render returns the configuration text Options describe.
func Render(o Options) ([]byte, error) {
	r, err := o.resolve()
	if err != nil {
		return nil, err
	}
	return renderWith(templateFS, r)
}

func renderWith(fsys fs.FS, r *resolved) ([]byte, error) {
	tmpl, err := parse(fsys, r.t.template)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, r); err != nil {
		return nil, fmt.Errorf("deploy: %s: %w: %v", r.t.template, ErrTemplate, err)
	}
	return tidy(b.Bytes()), nil
}

// parse parses common.tmpl (the shared header) and one target's template.
func parse(fsys fs.FS, name string) (*template.Template, error) {
	common, err := fs.ReadFile(fsys, "common.tmpl")
	if err != nil {
		return nil, fmt.Errorf("deploy: %w: %v", ErrTemplate, err)
	}
	text, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("deploy: %w: %v", ErrTemplate, err)
	}
	base, err := funcsTemplate().Clone()
	if err != nil {
		return nil, fmt.Errorf("deploy: %w: %v", ErrTemplate, err)
	}
	t := base.New(name)
	if _, err := t.New("common.tmpl").Parse(string(common)); err != nil {
		return nil, fmt.Errorf("deploy: common.tmpl: %w: %v", ErrTemplate, err)
	}
	if _, err := t.Parse(string(text)); err != nil {
		return nil, fmt.Errorf("deploy: %s: %w: %v", name, ErrTemplate, err)
	}
	return t, nil
}

// tidy removes trailing spaces and collapses runs of blank lines that conditional sections
// leave behind, so templates can stay readable without whitespace-trimming gymnastics.
func tidy(b []byte) []byte {
	lines := strings.Split(string(b), "\n")
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" && len(out) > 0 && out[len(out)-1] == "" {
			continue
		}
		out = append(out, l)
	}
	return []byte(strings.TrimSpace(strings.Join(out, "\n")) + "\n")
}

// What templates use beyond Options' fields.

// ProtocolName is the protocol as people write it.
func (r *resolved) ProtocolName() string {
	return map[string]string{"fcgi": "FastCGI", "scgi": "SCGI", "ajp": "AJP13", "http": "HTTP"}[r.Protocol]
}

// Balanced reports whether there are several backends.
func (r *resolved) Balanced() bool { return len(r.Backends) > 1 }

// Backend is the first (for one-process targets, the only) backend.
func (r *resolved) Backend() Backend { return r.Backends[0] }

// ListenPort is the port part of Listen.
func (r *resolved) ListenPort() string { return r.listenPort() }

// RunfcgiArgs is the runfcgi command line serving the app on backend i, one argument per
// element, for a template to quote. A unix socket is created in WebGroup with mode 0660,
// so the web server, and no other local user, can connect. The AJP secret is never among
// them: runfcgi reads APPGEN_AJP_SECRET from its environment.
func (r *resolved) RunfcgiArgs(i int) []string {
	args := append([]string{r.Binary, "runfcgi", "protocol=" + r.Protocol}, r.Backends[i].RunfcgiAddress()...)
	if r.Backends[i].IsUnix() {
		args = append(args, "socket_group="+r.WebGroup, "socket_mode=0660")
	}
	return args
}

// HasSecret reports whether the output holds a secret, so that it is written 0600.
func (r *resolved) HasSecret() bool {
	return r.Secret != "" && r.t.name == "apache" && r.Protocol == "ajp"
}

// InputLines describe every input, defaults included, for the header.
func (r *resolved) InputLines() []string {
	lines := []string{
		"target: " + r.Target + " (" + r.t.summary + ")",
		"project: " + r.Name + " in " + r.Dir + ", binary " + r.Binary + ", settings " + r.Settings,
		"protocol: " + r.Protocol,
	}
	if r.t.onRequest {
		lines = append(lines, r.containerLine())
	} else if r.t.usesBackends {
		var bs []string
		for _, b := range r.Backends {
			bs = append(bs, b.String())
		}
		lines = append(lines, "backends: "+strings.Join(bs, ", "))
	} else {
		lines = append(lines, "launcher: "+r.Launcher)
	}
	if r.Target != "restart" && r.Target != "systemd" && r.Target != "systemd-socket" && r.Target != "fcgi" &&
		r.Target != "docker" && r.Target != "dockerignore" {
		names := "any host"
		if len(r.ServerNames) > 0 {
			names = strings.Join(r.ServerNames, ", ")
		}
		lines = append(lines,
			"server names: "+names+"; listen: "+r.Listen,
			"prefix: "+orRoot(r.Prefix)+"; static: "+r.StaticURL+" from "+r.StaticRoot+"; document root: "+r.DocumentRoot)
	}
	if r.Secret != "" {
		lines = append(lines, "secret: set (not shown)")
	}
	if r.Spawn {
		lines = append(lines, "spawn: the web server starts the app")
	}
	return lines
}

func orRoot(p string) string {
	if p == "" {
		return "/ (root)"
	}
	return p
}

// funcsTemplate holds no text, only the functions and the options a target's template
// gets; each target's template is a clone of it.
var funcsTemplate = sync.OnceValue(func() *template.Template {
	return template.New("").Option("missingkey=error").Funcs(funcs()).Funcs(quoteFuncs)
})

// templateFuncs are the names of the hermetic template functions (tmplfunc, which the project
// templates get whole) that the deploy templates use. Only these are given: a template that
// writes a server's configuration needs no more, a smaller set is less to trust, and copying
// ~200 functions into every target's template was a tenth of startproject's time.
// TestEveryTemplateParses fails when a template calls one that is not here.
var templateFuncs = []string{"add1", "base", "dir", "hasPrefix", "list", "trimPrefix"}

// funcs are the functions every target's template gets besides quoteFuncs: templateFuncs
// and deploy's own.
func funcs() template.FuncMap {
	all := tmplfunc.Map()
	m := template.FuncMap{"orRoot": orRoot}
	for _, name := range templateFuncs {
		m[name] = all[name]
	}
	return m
}

// EnvFile is the file of NAME=value lines (mode 0600) that the launcher, the restart script
// and the systemd unit read last, for what must not be in a config: APPGEN_SECRET_KEY, the
// AJP secret, and APPGEN_ALLOWED_HOSTS when no server name says the hosts.
func (r *resolved) EnvFile() string { return filepath.Join(r.Dir, r.Name+".env") }

// AppEnv is the environment the app process needs to serve this site under its settings
// profile. APPGEN_ALLOWED_HOSTS is the server names when there are some; without them it
// is left to the env file, never "*": a production site that answers any Host header
// builds its links from whatever a client sends (host header poisoning), and runfcgi
// refuses to serve production with no allowed hosts, naming the variable to set.
// AJP and HTTP carry no script name, so a prefix mount must be forced for them.
func (r *resolved) AppEnv() [][2]string {
	env := [][2]string{{"APPGEN_SETTINGS", r.Settings}}
	if len(r.ServerNames) > 0 {
		// The runtime follows Django: ".example.com" is the domain and its subdomains.
		names := make([]string, len(r.ServerNames))
		for i, n := range r.ServerNames {
			names[i] = strings.TrimPrefix(n, "*")
		}
		env = append(env, [2]string{"APPGEN_ALLOWED_HOSTS", strings.Join(names, ",")})
	}
	if r.Prefix != "" && (r.Protocol == "ajp" || r.Protocol == "http") {
		env = append(env, [2]string{"APPGEN_FORCE_SCRIPT_NAME", r.Prefix})
	}
	return env
}

// AnyUnix reports whether some backend is a unix socket.
func (r *resolved) AnyUnix() bool {
	for _, b := range r.Backends {
		if b.IsUnix() {
			return true
		}
	}
	return false
}

// HoldsSecret reports whether o's output holds a secret (apache's AJP secret=), so that
// whoever writes it to a file makes that file readable by its owner only (0600).
func HoldsSecret(o Options) bool {
	r, err := o.resolve()
	return err == nil && r.HasSecret()
}
