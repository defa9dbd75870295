package manage

import "github.com/appgen/appgen/runtime/runfcgi"

// runfcgi hands the command line to package runfcgi, which does everything Django's runfcgi
// did; the project's deployment defaults come from its settings.
func (m *command) runfcgi(args []string) int {
	return runfcgi.Main(args, runfcgi.Site{
		Handler: m.site.Handler,
		Defaults: runfcgi.Defaults{
			Protocol: m.site.Protocol,
			Host:     m.site.Host,
			Port:     m.site.Port,
			Socket:   m.site.Socket,
		},
		ForceScriptName: m.site.ForceScriptName,
		Stdout:          m.stdout,
		Stderr:          m.stderr,
		Preflight:       m.runfcgiPreflight,
	})
}
