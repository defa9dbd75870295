package prefork

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// rssFile is this process's resident file-backed memory in KiB
// (/proc/self/status RssFile).
func rssFile(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "RssFile:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				t.Fatalf("RssFile: %q: %v", rest, err)
			}
			return kb
		}
	}
	t.Fatal("/proc/self/status has no RssFile line")
	return 0
}

// The master drops its program's pages once its workers serve (issue 11: a
// master kept the whole 10 MiB program resident, as much as a worker). The
// test process drops its own: most of the test binary it has touched goes
// (RssFile also counts the C library, which stays), and the process goes on
// running the code it needs, which faults back.
func TestDropProgramPages(t *testing.T) {
	before := rssFile(t)
	if err := dropProgramPages(); err != nil {
		t.Fatal(err)
	}
	after := rssFile(t)
	t.Logf("RssFile %d KiB before, %d KiB after", before, after)
	if after > before*3/4 {
		t.Errorf("RssFile went from %d KiB to %d KiB, want at most three quarters", before, after)
	}
	// Still running: code and read-only data fault back from the file.
	if got := strconv.Itoa(workerGOGC(2)); got != "50" {
		t.Errorf("workerGOGC(2) = %s after dropping pages, want 50", got)
	}
}

func TestSameDev(t *testing.T) {
	tests := []struct {
		field string
		dev   uint64
		want  bool
	}{
		{"08:01", 0x801, true},
		{"08:02", 0x801, false},
		{"103:05", 0x10305, true}, // major 0x103 spills into the high bits
		{"00:1f", 0x1f, true},
		{"0801", 0x801, false},
		{"zz:01", 0x801, false},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			if got := sameDev(tt.field, tt.dev); got != tt.want {
				t.Errorf("sameDev(%q, %#x) = %v, want %v", tt.field, tt.dev, got, tt.want)
			}
		})
	}
}
