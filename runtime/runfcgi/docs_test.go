package runfcgi

import (
	"os"
	"strings"
	"testing"
)

// TestDocsCommandsParse runs Parse on every runfcgi command line the guides show, so a
// documented key or value cannot drift from what runfcgi accepts. Lines using shell
// variables are checked with the variable's text as the value.
func TestDocsCommandsParse(t *testing.T) {
	for _, page := range []string{"../../docs/runfcgi.md", "../../docs/servers/daemon.md"} {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Skipf("the guides are not beside the runtime here: %v", err)
		}
		lines := strings.Split(strings.ReplaceAll(string(b), "\\\n", " "), "\n")
		n := 0
		for _, line := range lines {
			_, rest, ok := strings.Cut(line, "./mysite runfcgi")
			// The synopsis ("[key=value ...]") and table rows are not commands.
			if !ok || strings.HasPrefix(strings.TrimSpace(line), "|") || strings.Contains(rest, "[") {
				continue
			}
			if i := strings.Index(rest, "#"); i >= 0 {
				rest = rest[:i]
			}
			rest = strings.TrimRight(strings.TrimSpace(rest), "`")
			args := strings.Fields(rest)
			n++
			if _, err := Parse(args, projectDefaults); err != nil {
				t.Errorf("%s: %q: %v", page, line, err)
			}
		}
		if n == 0 {
			t.Errorf("%s shows no runfcgi command", page)
		}
	}
}
