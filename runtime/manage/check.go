package manage

import (
	"fmt"
	"strings"

	"github.com/appgen/appgen/runtime/runfcgi"
)

// check is Django's "manage.py check": every problem at once, so a deployment fixes them in one go.
// With --deploy it also runs the deployment checks (Site.Deploy), as Django's check --deploy.
func (m *command) check(args []string) int {
	deploy := false
	for _, a := range args {
		switch a {
		case "--deploy", "-deploy":
			deploy = true
		default:
			m.errorf("check: unexpected argument %q; check takes only --deploy", a)
			return ExitUsage
		}
	}
	problems := m.settingsProblems()
	if deploy {
		for _, p := range m.deployProblems() {
			problems = append(problems, p.String())
		}
	}
	if m.reportProblems("System check identified some issues:", problems) {
		return ExitError
	}
	return ExitOK
}

// deployProblems are check --deploy's findings; a project that passes no Deploy cannot be
// judged, which is itself a finding.
func (m *command) deployProblems() []Problem {
	if m.site.Deploy == nil {
		return []Problem{{Level: Error, ID: "deploy.E000", Msg: "the project passes no deployment settings to manage.Main (Site.Deploy), so they cannot be checked"}}
	}
	return m.site.Deploy.Check()
}

// settingsProblems is what Site.Check reports, as text.
func (m *command) settingsProblems() []string {
	var problems []string
	if m.site.Check != nil {
		for _, err := range m.site.Check() {
			problems = append(problems, err.Error())
		}
	}
	return problems
}

// reportProblems prints problems to stderr under heading, or the all-clear to stdout, and
// reports whether there were any.
func (m *command) reportProblems(heading string, problems []string) bool {
	if len(problems) == 0 {
		fmt.Fprintln(m.stdout, "System check identified no issues.")
		return false
	}
	fmt.Fprintln(m.stderr, heading)
	for _, p := range problems {
		fmt.Fprintf(m.stderr, "  %s\n", p)
	}
	noun := "issues"
	if len(problems) == 1 {
		noun = "issue"
	}
	fmt.Fprintf(m.stderr, "System check identified %d %s.\n", len(problems), noun)
	return true
}

// runfcgiPreflight is what runfcgi checks before it listens. With Debug on (the development
// settings) it serves, warning that the site shows its internals. Otherwise the site is taken
// to be public: the settings' problems and the deployment checks' errors stop it, their
// warnings are printed.
func (m *command) runfcgiPreflight(o runfcgi.Options) ([]string, error) {
	profile := ""
	if m.site.Profile != "" {
		profile = fmt.Sprintf(" %q", m.site.Profile)
	}
	d := m.site.Deploy
	if d != nil && d.Debug {
		how := "in the foreground"
		if o.Daemonize {
			how = "as a daemon"
		}
		w := []string{fmt.Sprintf("runfcgi: warning: serving the settings profile%s with Debug on %s: error pages show the code to anyone who can reach the site; for a public site run the production settings (APPGEN_SETTINGS=production)", profile, how)}
		for _, p := range m.settingsProblems() {
			w = append(w, "runfcgi: warning: "+p)
		}
		return w, nil
	}
	var errs, warnings []string
	errs = append(errs, m.settingsProblems()...)
	if d == nil {
		warnings = append(warnings, "runfcgi: warning: the project passes no deployment settings to manage.Main (Site.Deploy): the secret key, allowed hosts and Debug are not checked before serving")
	} else {
		for _, p := range d.Check() {
			if p.Level == Error {
				errs = append(errs, p.String())
			} else {
				warnings = append(warnings, "runfcgi: warning: "+p.String())
			}
		}
	}
	if len(errs) > 0 {
		return warnings, fmt.Errorf("runfcgi: refusing to serve the settings profile%s, which is not fit for a public site (Debug is off):\n  %s\n(%s check --deploy lists every problem)",
			profile, strings.Join(errs, "\n  "), m.name)
	}
	return warnings, nil
}
