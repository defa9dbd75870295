package deploy

import (
	"context"
	"path"
	"path/filepath"
	"strings"
)

// The systemd target: a unit running runfcgi as the site's own user.
var systemdTarget = &target{name: "systemd", summary: "systemd unit running runfcgi in the foreground",
	protocols: []string{"fcgi", "scgi", "ajp"}, usesBackends: true, oneBackend: true, template: "systemd/NAME.service.tmpl", program: "systemd-analyze",
	syntax: syntaxSystemd, fields: fieldList(baseFields, appEnvFields, backendFields, []string{"User"}),
	check: func(ctx context.Context, r *resolved, text []byte, dir string) ([]string, error) {
		err := checkCommand(ctx, "systemd-analyze", "systemd", filepath.Join(dir, r.Name+".service"), text, "verify")
		if err != nil && onlyMissingBinary(err.Error(), r.Binary) {
			// The unit is sound; the project is simply not installed on this machine.
			return []string{"the unit is valid, but " + r.Binary + " is not installed here yet"}, nil
		}
		return nil, err
	}}

// RuntimeDirName is the unit's RuntimeDirectory=: the socket's directory relative to /run,
// or "" when the socket is elsewhere (the operator then makes its directory).
func (r *resolved) RuntimeDirName() string {
	if d, ok := strings.CutPrefix(path.Dir(r.Backend().Address), "/run/"); ok && r.Backend().IsUnix() {
		return d
	}
	return ""
}
