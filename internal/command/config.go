package command

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/appgen/appgen/deploy"
)

func configCommand() *cli.Command {
	var targets strings.Builder
	for _, t := range deploy.Targets() {
		fmt.Fprintf(&targets, "   %-13s %s\n", t, deploy.Summary(t))
	}
	var subs []*cli.Command
	for _, t := range deploy.Targets() {
		target := t
		subs = append(subs, &cli.Command{
			Name:      target,
			Usage:     deploy.Summary(target),
			ArgsUsage: " ",
			Flags:     configFlags(target),
			OnUsageError: func(_ *cli.Context, err error, _ bool) error {
				return &usageError{cmd: "config " + target, err: notForTarget(target, err)}
			},
			HideHelpCommand: true,
			Action:          func(c *cli.Context) error { return config(c, target) },
		})
	}
	return &cli.Command{
		Name:      "config",
		Usage:     "write a web server configuration, launcher, restart script, systemd unit, Dockerfile or Kubernetes manifests",
		ArgsUsage: "SERVER",
		Description: "Prints what puts a project behind a web server. SERVER is one of:\n\n" +
			targets.String() + "\n" +
			"Run inside a generated project (or with --project DIR), it reads the project's name\n" +
			"and settings/deploy.go, so the output matches what `runfcgi` listens on by default;\n" +
			"flags override them. --backend (repeatable: host:port or unix:/path) replaces --host,\n" +
			"--port and --socket and makes a load-balanced group. The output starts with a comment\n" +
			"recording the inputs and ends with how to check and reload that server.\n\n" +
			"-o FILE writes the output atomically and refuses to overwrite an existing file, as\n" +
			"startproject does. --check runs the server's own validator (nginx -t, apache2 -t,\n" +
			"lighttpd -tt, sh -n, systemd-analyze verify) on the output in a throwaway directory\n" +
			"and says what is missing when it cannot (program not installed, module not enabled).\n\n" +
			"Run 'appgen config SERVER --help' for the flags.\n\n" +
			"Examples:\n" +
			"   appgen config nginx --server-name example.com -o /etc/nginx/sites-available/mysite\n" +
			"   appgen config apache --protocol scgi --backend 127.0.0.1:3033 --backend 127.0.0.1:3034\n" +
			"   appgen config lighttpd --socket /run/mysite/mysite.sock --prefix /app --check\n" +
			"   appgen config fcgi -o mysite.fcgi",
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return &usageError{cmd: "config", err: err}
		},
		Subcommands: subs,
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return &usageError{cmd: "config", err: fmt.Errorf("config: %w %q, want one of %s", deploy.ErrUnknownTarget, c.Args().First(), strings.Join(deploy.Targets(), ", "))}
			}
			if err := cli.ShowSubcommandHelp(c); err != nil {
				return err
			}
			return errHelpShown
		},
	}
}

// configFlags are the flags of one target: those that set a field its output uses
// (deploy.Uses), and -o, --check and --project. Each target is a subcommand so that flags
// may follow SERVER, as users write them, and its help lists only what applies to it.
func configFlags(target string) []cli.Flag {
	var out []cli.Flag
	for _, f := range allConfigFlags() {
		field, ok := flagFields[flagName(f)]
		if !ok || deploy.Uses(target, field) {
			out = append(out, f)
		}
	}
	return out
}

// flagName is f's name. urfave's Names() runs a regular expression over it each time, and
// configFlags ran it for every flag of every target in every command, --version included.
func flagName(f cli.Flag) string {
	switch f := f.(type) {
	case *cli.StringFlag:
		return f.Name
	case *cli.IntFlag:
		return f.Name
	case *cli.BoolFlag:
		return f.Name
	case *cli.StringSliceFlag:
		return f.Name
	}
	return f.Names()[0]
}

// notForTarget rewords the flag parser's "flag provided but not defined: -secret" when the
// flag is one of config's that this target does not use.
func notForTarget(target string, err error) error {
	name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
	if _, known := flagFields[name]; ok && known {
		return fmt.Errorf("--%s does not apply to %s: its output does not use it", name, target)
	}
	return err
}

// flagFields maps each flag to the Options field it sets; flags not here (-o, --check,
// --project) apply to every target.
var flagFields = map[string]string{
	"protocol": "Protocol", "host": "Backends", "port": "Backends", "socket": "Backends", "backend": "Backends",
	"server-name": "ServerNames", "listen": "Listen", "prefix": "Prefix", "static-url": "StaticURL",
	"static-root": "StaticRoot", "document-root": "DocumentRoot", "secret": "Secret", "name": "Name",
	"dir": "Dir", "launcher": "Launcher", "settings": "Settings", "user": "User", "web-group": "WebGroup",
	"spawn": "Spawn", "no-socket-unit": "NoSocketUnit",
	"image": "Image", "web-image": "WebImage",
}

func allConfigFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "protocol", Usage: "how the server talks to the app: fcgi, scgi, ajp or http (default: the project's, else fcgi)"},
		&cli.StringFlag{Name: "host", Usage: "the app's TCP host (default: the project's, else 127.0.0.1)"},
		&cli.IntFlag{Name: "port", Usage: "the app's TCP port", DefaultText: "the project's, else 3033"},
		&cli.StringFlag{Name: "socket", Usage: "the app's unix socket path, instead of --host and --port", TakesFile: true},
		&cli.StringSliceFlag{Name: "backend", Usage: "an app address, host:port or unix:/path; repeat for several"},
		&cli.StringSliceFlag{Name: "server-name", Usage: "a host name the site answers to; repeat for several (default: any)"},
		&cli.StringFlag{Name: "listen", Usage: "the port, or host:port, the site listens on (default: 80)"},
		&cli.StringFlag{Name: "prefix", Usage: "mount the app under this URL path, e.g. /app (default: the root)"},
		&cli.StringFlag{Name: "static-url", Usage: "URL path of static files (inside a project: its StaticURL, which its pages link; else PREFIX/static/)"},
		&cli.StringFlag{Name: "static-root", Usage: "directory of static files, relative to --dir unless absolute (default: the project's)", TakesFile: true},
		&cli.StringFlag{Name: "document-root", Usage: "the server's document root (default: DIR/public_html)", TakesFile: true},
		&cli.StringFlag{Name: "secret", Usage: "AJP shared secret, sent by mod_proxy_ajp and checked by runfcgi"},
		&cli.StringFlag{Name: "name", Usage: "project name outside a project (default: the project's, else the last element of --dir)"},
		&cli.StringFlag{Name: "dir", Usage: "the project's directory on the server (default: the project's directory; required outside a project)", TakesFile: true},
		&cli.StringFlag{Name: "launcher", Usage: "where the FastCGI launcher lives (default: DIR/NAME.fcgi)", TakesFile: true},
		&cli.StringFlag{Name: "settings", Usage: "settings profile the app runs with, APPGEN_SETTINGS (default: production)"},
		&cli.StringFlag{Name: "user", Usage: "systemd only: the system user (and group) the site runs as (default: the project's name)"},
		&cli.StringFlag{Name: "web-group", Usage: "the web server's group, which alone may open the app's unix socket (default: www-data)"},
		&cli.BoolFlag{Name: "no-socket-unit", Usage: "systemd only: a plain service whose runfcgi creates its own socket (default: systemd holds it in NAME.socket, written beside the service with -o, so it outlives restarts)"},
		&cli.BoolFlag{Name: "spawn", Usage: "lighttpd, cherokee and h2o only: the web server starts the app itself"},
		&cli.StringFlag{Name: "image", Usage: "kubernetes only: the app's image, repository:tag[@sha256:digest], as docker build -t named it (default: NAME:latest)"},
		&cli.StringFlag{Name: "web-image", Usage: "kubernetes only: the nginx sidecar's image, the Dockerfile's web stage (default: the app image's repository + -web, same tag)"},
		&cli.StringFlag{Name: "project", Usage: "read the project in this directory (default: the current directory, if it is one)", TakesFile: true},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to FILE instead of standard output; never overwrites", TakesFile: true},
		&cli.BoolFlag{Name: "check", Usage: "validate the output with the server's own checker"},
	}
}

func config(c *cli.Context, target string) error {
	if c.Args().Present() {
		return usagef("config "+target, "config %s takes no arguments, got %q (flags start with --)", target, c.Args().First())
	}
	o, err := configOptions(c, target)
	if err != nil {
		return err
	}
	text, err := deploy.Render(o)
	if err != nil {
		if errors.Is(err, deploy.ErrUnknownTarget) {
			return &usageError{cmd: "config", err: err}
		}
		return inputError(c, err)
	}
	if c.Bool("check") {
		notes, err := deploy.Check(c.Context, o)
		for _, n := range notes {
			fmt.Fprintf(c.App.ErrWriter, "appgen: note: %s\n", n)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(c.App.ErrWriter, "appgen: %s configuration checked: OK\n", o.Target)
	}
	companion, hasCompanion := deploy.Companion(o)
	// Its header names the command that prints it alone, which appgen upgrade runs again.
	companion.Command = commandLine(c, companion.Target)
	if out := c.String("output"); out != "" {
		var extra string
		var extraText []byte
		if hasCompanion {
			// The socket unit goes beside the service, and neither is written unless both can be.
			if extra, err = deploy.CompanionFile(target, companion.Name, out); err != nil {
				return fmt.Errorf("config: -o %s: %v (or --no-socket-unit)", out, strings.TrimPrefix(err.Error(), "deploy: "+out+": "))
			}
			if extraText, err = deploy.Render(companion); err != nil {
				return inputError(c, err)
			}
			if _, err := os.Lstat(extra); err == nil {
				return fmt.Errorf("config: %s already exists; appgen never overwrites a file (remove it or choose another -o)", extra)
			}
		}
		secret := deploy.HoldsSecret(o)
		made, err := writeNew(out, text, secret)
		if made != "" {
			fmt.Fprintf(c.App.ErrWriter, "appgen: created directory %s\n", made)
		}
		if err != nil {
			return err
		}
		if extra != "" {
			if _, err := writeNew(extra, extraText, false); err != nil {
				os.Remove(out)
				return err
			}
			fmt.Fprintf(c.App.ErrWriter, "appgen: wrote %s beside %s\n", extra, out)
		}
		// Inside a project, appgen upgrade renders the file again (upgrade.go).
		if err := recordConfig(c, target, out, text); err != nil {
			return err
		}
		if extra != "" {
			if err := recordConfig(c, companion.Target, extra, extraText); err != nil {
				return err
			}
		}
		if secret {
			fmt.Fprintf(c.App.ErrWriter, "appgen: %s holds the AJP secret: written with mode 0600 (owner only)\n", out)
		}
		return nil
	}
	if hasCompanion {
		what := "this unit takes its socket from"
		if target == "docker" {
			what = "this Dockerfile's build context is filtered by"
		}
		fmt.Fprintf(c.App.ErrWriter, "appgen: note: %s %s, which `appgen config %s` prints; -o DIR/%s writes both\n",
			what, deploy.DefaultFile(companion.Target, companion.Name), companion.Target, deploy.DefaultFile(target, companion.Name))
	}
	_, err = c.App.Writer.Write(text)
	return err
}

// configOptions merges, in increasing precedence: deploy's defaults, the project's
// settings/deploy.go, and flags.
func configOptions(c *cli.Context, target string) (deploy.Options, error) {
	o := deploy.Options{Target: target}
	var p deploy.Project
	var err error
	if dir := c.String("project"); dir != "" {
		p, err = deploy.ReadProject(dir)
	} else {
		p, err = deploy.FindProject(".")
	}
	switch {
	case err == nil:
		o = p.Options(target)
	case errors.Is(err, deploy.ErrNotProject) && !c.IsSet("project") && c.IsSet("dir"):
		// Outside a project, for one elsewhere: --dir (and --name) say where and what it is.
		if !c.IsSet("name") {
			o.Name = filepath.Base(c.String("dir"))
			if !deploy.ValidName(o.Name) {
				return o, usagef("config "+target, "--dir %s: its last element %q is not a project name; give --name", c.String("dir"), o.Name)
			}
		}
	case errors.Is(err, deploy.ErrNotProject) && !c.IsSet("project"):
		return o, usagef("config "+target, "%v: run appgen config inside a project (or a directory below it), pass --project DIR, or describe the project with --dir (and --name)", err)
	default:
		var ce *deploy.ConstantError
		if errors.As(err, &ce) {
			if flag := constantFlags[ce.Constant]; flag != "" {
				return o, fmt.Errorf("%v, or pass %s", err, flag)
			}
		}
		return o, err
	}
	o.Version = envFrom(c).build.Version
	if c.IsSet("host") && c.IsSet("socket") || c.IsSet("port") && c.IsSet("socket") {
		return o, usagef("config", "--socket and --host/--port both given: the app listens on one or the other")
	}
	if (c.IsSet("host") || c.IsSet("port") || c.IsSet("socket")) && c.IsSet("backend") {
		return o, usagef("config", "--backend replaces --host, --port and --socket; give one or the other")
	}
	switch {
	case c.IsSet("backend"):
		o.Backends = nil
		for _, s := range c.StringSlice("backend") {
			b, err := deploy.ParseBackend(s)
			if err != nil {
				return o, inputError(c, err)
			}
			o.Backends = append(o.Backends, b)
		}
	case c.IsSet("socket"):
		o.Backends = []deploy.Backend{deploy.Unix(c.String("socket"))}
	case c.IsSet("host") || c.IsSet("port"):
		host, port := "127.0.0.1", 3033
		if len(o.Backends) == 1 && !o.Backends[0].IsUnix() {
			host, port = o.Backends[0].Host(), o.Backends[0].Port()
		}
		if c.IsSet("host") {
			host = c.String("host")
		}
		if c.IsSet("port") {
			port = c.Int("port")
			if port < 1 || port > 65535 {
				return o, fmt.Errorf("config: --port %d out of range 1-65535", port)
			}
		}
		o.Backends = []deploy.Backend{deploy.TCP(host, port)}
	}
	str := func(flag string, into *string) {
		if c.IsSet(flag) {
			*into = c.String(flag)
		}
	}
	str("protocol", &o.Protocol)
	str("listen", &o.Listen)
	str("prefix", &o.Prefix)
	str("static-url", &o.StaticURL)
	str("static-root", &o.StaticRoot)
	str("document-root", &o.DocumentRoot)
	str("secret", &o.Secret)
	str("name", &o.Name)
	str("dir", &o.Dir)
	str("launcher", &o.Launcher)
	str("settings", &o.Settings)
	str("user", &o.User)
	str("web-group", &o.WebGroup)
	str("image", &o.Image)
	str("web-image", &o.WebImage)
	if err == nil && c.IsSet("static-url") && o.StaticURL != p.StaticURL {
		// The project's pages link its StaticURL: a server serving static files elsewhere
		// would break every link (issue 10: --prefix moved them, the pages did not follow).
		return o, fmt.Errorf("config: --static-url %q: the project's pages link static files at %s's StaticURL %q; change it there, so that the two agree", o.StaticURL, deploy.DeploySettingsFile, p.StaticURL)
	}
	if c.IsSet("dir") && err == nil && !c.IsSet("static-root") && !filepath.IsAbs(p.StaticRoot) {
		o.StaticRoot = p.StaticRoot
	}
	o.ServerNames = c.StringSlice("server-name")
	o.Spawn = c.Bool("spawn")
	o.NoSocketUnit = c.Bool("no-socket-unit")
	o.Command = commandLine(c, target)
	return o, nil
}

// commandLine is the `appgen config` command that gave these inputs, for the header: the
// flags that shape the output, in the order help lists them (not -o, --check, --project).
func commandLine(c *cli.Context, target string) string {
	args := []string{"appgen", "config", target}
	for _, f := range configFlags(target) {
		name := f.Names()[0]
		if !c.IsSet(name) || name == "output" || name == "check" || name == "project" {
			continue
		}
		switch f.(type) {
		case *cli.BoolFlag:
			args = append(args, "--"+name)
		case *cli.StringSliceFlag:
			for _, v := range c.StringSlice(name) {
				args = append(args, "--"+name, shellQuote(v))
			}
		case *cli.IntFlag:
			args = append(args, "--"+name, strconv.Itoa(c.Int(name)))
		default:
			if name == "secret" {
				args = append(args, "--secret", "SECRET") // never the secret itself
				continue
			}
			args = append(args, "--"+name, shellQuote(c.String(name)))
		}
	}
	return strings.Join(args, " ")
}

// writeNew writes data to path atomically and never replaces an existing file: it writes a
// temporary file beside it, then hard-links it into place, which fails if path exists.
// A file holding a secret is written 0600 whatever the umask. A missing directory is made
// (0777 &^ umask, as mkdir -p does: the guides write into ~/public_html before it exists)
// and returned as made.
func writeNew(path string, data []byte, secret bool) (made string, err error) {
	if _, err := os.Lstat(path); err == nil {
		return "", fmt.Errorf("config: %s already exists; appgen never overwrites a file (remove it or choose another -o)", path)
	}
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return "", fmt.Errorf("config: %w", err)
		}
		made = dir
	}
	tmp, err := os.CreateTemp(dir, ".appgen-config-*")
	if err != nil {
		return made, fmt.Errorf("config: %w", err)
	}
	defer os.Remove(tmp.Name())
	mode := os.FileMode(0o666)
	if strings.HasPrefix(string(data), "#!") {
		mode = 0o777
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return made, fmt.Errorf("config: %w", err)
	}
	mode &^= os.FileMode(umask())
	if secret {
		mode = 0o600
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return made, fmt.Errorf("config: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return made, fmt.Errorf("config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return made, fmt.Errorf("config: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return made, fmt.Errorf("config: %s already exists; appgen never overwrites a file (remove it or choose another -o)", path)
		}
		return made, fmt.Errorf("config: %w", err)
	}
	return made, nil
}

// inputError turns deploy's *FieldError, which names an Options field, into an error naming
// the flag (or the project constant) the value came from.
func inputError(c *cli.Context, err error) error {
	var fe *deploy.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	from := fieldSource(c, fe)
	if fe.Kind == deploy.KindSecret {
		return fmt.Errorf("config: %s: want %s", from, fe.Want)
	}
	return fmt.Errorf("config: %s %q: want %s", from, fe.Value, fe.Want)
}

// fieldFlags maps deploy.Options fields to the flag that sets each.
var fieldFlags = map[string]string{
	"Name": "--name", "Dir": "--dir", "Binary": "--dir", "Launcher": "--launcher",
	"Protocol": "--protocol", "ServerNames": "--server-name", "Listen": "--listen",
	"Prefix": "--prefix", "StaticURL": "--static-url", "StaticRoot": "--static-root",
	"DocumentRoot": "--document-root", "Secret": "--secret", "Settings": "--settings",
	"User": "--user", "WebGroup": "--web-group", "Spawn": "--spawn", "NoSocketUnit": "--no-socket-unit",
	"Image": "--image", "WebImage": "--web-image",
}

// constantFlags maps settings/deploy.go's constants to the flag that replaces each.
var constantFlags = map[string]string{
	"Protocol": "--protocol", "Host": "--host", "Port": "--port", "Socket": "--socket",
	"StaticURL": "--static-url", "StaticRoot": "--static-root",
}

// projectConstants maps fields a project sets to its settings/deploy.go constant.
var projectConstants = map[string]string{
	"Name": "ProjectName", "Protocol": "Protocol", "StaticURL": "StaticURL", "StaticRoot": "StaticRoot",
}

// fieldSource names where a refused value came from: the flag given, else the project's
// constant, else the flag that would set it.
func fieldSource(c *cli.Context, fe *deploy.FieldError) string {
	if fe.Field == "Backends" {
		switch {
		case c.IsSet("backend"):
			return "--backend"
		case fe.Part == "socket" && c.IsSet("socket"):
			return "--socket"
		case fe.Part == "host" && c.IsSet("host"):
			return "--host"
		case fe.Part == "port" && c.IsSet("port"):
			return "--port"
		case c.IsSet("socket") || c.IsSet("host") || c.IsSet("port"):
			return "--socket/--host/--port"
		}
		if fe.Part == "socket" {
			return deploy.DeploySettingsFile + " constant Socket (or --socket)"
		}
		if fe.Part == "port" {
			return deploy.DeploySettingsFile + " constant Port (or --port)"
		}
		return deploy.DeploySettingsFile + " constant Host (or --host)"
	}
	flag, ok := fieldFlags[fe.Field]
	if !ok {
		return "the " + fe.Field + " recorded in the header"
	}
	if !c.IsSet(strings.TrimPrefix(flag, "--")) {
		if k, ok := projectConstants[fe.Field]; ok {
			return deploy.DeploySettingsFile + " constant " + k + " (or " + flag + ")"
		}
	}
	return flag
}
