package reliability

import (
	"os"
	"testing"
)

// long reports whether the long scenarios run: APPGEN_LONG=1 (bench/run sets it).
func long() bool { return os.Getenv("APPGEN_LONG") == "1" }

// requireLong skips a scenario that only runs in the long suite.
func requireLong(t *testing.T) {
	t.Helper()
	if !long() {
		t.Skip("long scenario: set APPGEN_LONG=1 (or run bench/run reliability)")
	}
}
