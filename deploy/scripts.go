package deploy

import (
	"context"
	"path/filepath"
)

// The two shell scripts: the FastCGI launcher and the restart script. sh -n checks them; it
// parses without running anything.

var fcgiTarget = &target{name: "fcgi", summary: "the launcher NAME.fcgi that mod_fcgid or lighttpd runs; touching it restarts the app",
	protocols: []string{"fcgi"}, template: "NAME.fcgi.tmpl", program: "sh",
	syntax: syntaxShell, check: checkScript, fields: fieldList(baseFields, appEnvFields, []string{"Launcher"})}

var restartTarget = &target{name: "restart", summary: "shell script that stops the daemon by its pid file and starts runfcgi again",
	protocols: []string{"fcgi", "scgi", "ajp"}, usesBackends: true, oneBackend: true, template: "restart.sh.tmpl", program: "sh",
	syntax: syntaxShell, check: checkScript, fields: fieldList(baseFields, appEnvFields, backendFields)}

func checkScript(ctx context.Context, _ *resolved, text []byte, dir string) ([]string, error) {
	return nil, checkCommand(ctx, "sh", "dash or bash", filepath.Join(dir, "script.sh"), text, "-n")
}
