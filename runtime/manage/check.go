package manage

import "fmt"

// check is Django's "manage.py check": every problem at once, so a deployment fixes them in one go.
func (m *command) check(args []string) int {
	if len(args) > 0 {
		m.errorf("check: unexpected arguments %q; check takes none", args)
		return ExitUsage
	}
	if m.reportProblems("System check identified some issues:") {
		return ExitError
	}
	return ExitOK
}

// reportProblems prints the settings' problems to stderr under heading, or the all-clear to
// stdout, and reports whether there were any.
func (m *command) reportProblems(heading string) bool {
	var problems []error
	if m.site.Check != nil {
		problems = m.site.Check()
	}
	if len(problems) == 0 {
		fmt.Fprintln(m.stdout, "System check identified no issues.")
		return false
	}
	fmt.Fprintln(m.stderr, heading)
	for _, err := range problems {
		fmt.Fprintf(m.stderr, "  %v\n", err)
	}
	noun := "issues"
	if len(problems) == 1 {
		noun = "issue"
	}
	fmt.Fprintf(m.stderr, "System check identified %d %s.\n", len(problems), noun)
	return true
}
