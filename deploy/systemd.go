package deploy

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// The systemd target: a unit running runfcgi as the site's own user. By default systemd
// holds its socket in a socket unit written beside it (systemd-socket), so the socket
// outlives restarts: connections wait in its backlog while a new build starts.
var systemdTarget = &target{name: "systemd", summary: "systemd unit running runfcgi in the foreground",
	protocols: []string{"fcgi", "scgi", "ajp"}, usesBackends: true, oneBackend: true, template: "NAME.service.tmpl", program: "systemd-analyze",
	syntax: syntaxSystemd, fields: fieldList(baseFields, appEnvFields, backendFields, []string{"User", "NoSocketUnit"}),
	companion: "systemd-socket"}

// The systemd-socket target: the socket unit of the systemd target's service.
var systemdSocketTarget = &target{name: "systemd-socket", summary: "systemd socket unit holding the systemd unit's socket",
	protocols: []string{"fcgi", "scgi", "ajp"}, usesBackends: true, oneBackend: true, template: "NAME.socket.tmpl", program: "systemd-analyze",
	// It takes the service's inputs (those that do not shape it are ignored), so that one
	// command line, recorded once, makes both units.
	syntax: syntaxSystemd, fields: fieldList(baseFields, appEnvFields, backendFields, []string{"User"})}

// Set here, not in the literals: checkUnits reads the target table, which holds them.
func init() { systemdTarget.check, systemdSocketTarget.check = checkUnits, checkUnits }

// Companion returns the Options of the file that goes beside o's output (the socket unit
// beside the systemd service; CompanionFile says where), and whether there is one: none for
// other targets, nor for a service without a socket unit (NoSocketUnit).
func Companion(o Options) (Options, bool) {
	t, ok := targetByName[o.Target]
	if !ok || t.companion == "" || o.NoSocketUnit {
		return Options{}, false
	}
	if o.Name == "" {
		if r, err := o.resolve(); err == nil {
			o.Name = r.Name
		}
	}
	o.Target = t.companion
	return o, true
}

// CompanionFile returns where the companion of target goes when target's output for the
// project called name is file: beside it, under its own default name ("/etc/systemd/system/
// mysite.socket" for "/etc/systemd/system/mysite.service"). file must have target's default
// name, since the two units name each other (Requires=mysite.socket, Service=mysite.service):
// under another name neither would find the other.
func CompanionFile(target, name, file string) (string, error) {
	t, ok := targetByName[target]
	if !ok || t.companion == "" {
		return "", fmt.Errorf("deploy: %w %q has no companion file", ErrUnknownTarget, target)
	}
	want, other := DefaultFile(target, name), DefaultFile(t.companion, name)
	if filepath.Base(file) != want {
		if target == "docker" {
			return "", fmt.Errorf("deploy: %s: want a file named %s: docker build reads %s (written beside it) beside a Dockerfile of that name at the context's root", file, want, other)
		}
		return "", fmt.Errorf("deploy: %s: want a file named %s, the unit %s (written beside it) and systemd know it by", file, want, other)
	}
	return filepath.Join(filepath.Dir(file), other), nil
}

// checkUnits runs systemd-analyze verify on the service and its socket unit together, as
// systemd loads them: each names the other (Requires=, Service=).
func checkUnits(ctx context.Context, r *resolved, text []byte, dir string) ([]string, error) {
	files := map[string][]byte{r.t.template: text}
	if r.SocketUnit() {
		for _, t := range []*target{systemdTarget, systemdSocketTarget} {
			if t == r.t {
				continue
			}
			other := *r
			other.t, other.Target = t, t.name
			data, err := renderWith(templateFS, &other)
			if err != nil {
				return nil, err
			}
			if err := onlyKnownDirectives(t.name, string(data)); err != nil {
				return nil, err
			}
			files[t.template] = data
		}
	}
	var paths []string
	var last []byte
	var lastPath string
	for tmpl, data := range files {
		p := filepath.Join(dir, strings.ReplaceAll(strings.TrimSuffix(path.Base(tmpl), ".tmpl"), "NAME", r.Name))
		if tmpl == r.t.template {
			lastPath, last = p, data
			continue
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return nil, fmt.Errorf("deploy: %w", err)
		}
		paths = append(paths, p)
	}
	err := checkCommand(ctx, "systemd-analyze", "systemd", lastPath, last, append([]string{"verify"}, paths...)...)
	if err != nil && onlyMissingBinary(err.Error(), r.Binary) {
		// The units are sound; the project is simply not installed on this machine.
		return []string{"the unit is valid, but " + r.Binary + " is not installed here yet"}, nil
	}
	return nil, err
}

// SocketUnit reports whether systemd holds the socket in a socket unit (the default)
// rather than runfcgi creating it.
func (r *resolved) SocketUnit() bool { return !r.NoSocketUnit }

// ServiceArgs is the unit's runfcgi command line: with a socket unit, runfcgi serves the
// socket systemd passes (socket activation) and is given no address, mode or group,
// which the socket unit sets; otherwise it listens on the backend itself. The process
// model is runfcgi's default (threaded).
func (r *resolved) ServiceArgs() []string {
	if r.SocketUnit() {
		return []string{r.Binary, "runfcgi", "protocol=" + r.Protocol}
	}
	return r.RunfcgiArgs(0)
}

// RuntimeDirName is the unit's RuntimeDirectory=: the socket's directory relative to /run,
// or "" when the socket is elsewhere (the operator then makes its directory). With a socket
// unit there is none: systemd removes a RuntimeDirectory= when the service stops, which
// would take the socket unit's socket with it.
func (r *resolved) RuntimeDirName() string {
	if d, ok := strings.CutPrefix(path.Dir(r.Backend().Address), "/run/"); ok && r.Backend().IsUnix() && !r.SocketUnit() {
		return d
	}
	return ""
}
