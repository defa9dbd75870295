//go:build unix

package prefork

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// statusEnv tells a worker where its master keeps the pool's Status.
const statusEnv = "APPGEN_PREFORK_STATUS"

// statusWriter keeps the latest Status in a file in a private directory,
// replaced whole by a rename so that a worker never reads half of one. It
// is written when the pool changes, at most as often as workers report.
type statusWriter struct {
	dir, path string
	log       func(format string, args ...any)
	failed    bool
}

func newStatusWriter(logf func(string, ...any)) (*statusWriter, error) {
	dir, err := os.MkdirTemp("", "appgen-prefork-")
	if err != nil {
		return nil, fmt.Errorf("prefork: a directory for the status file: %w", err)
	}
	return &statusWriter{dir: dir, path: filepath.Join(dir, "status.json"), log: logf}, nil
}

func (sw *statusWriter) write(st Status) {
	data, err := json.Marshal(st)
	if err == nil {
		tmp := sw.path + ".tmp"
		if err = os.WriteFile(tmp, data, 0o600); err == nil {
			err = os.Rename(tmp, sw.path)
		}
	}
	if err != nil && !sw.failed {
		// Once: a full disk must not flood the log.
		sw.failed = true
		sw.log("prefork: writing the status file: %v", err)
	}
}

func (sw *statusWriter) close() { os.RemoveAll(sw.dir) }

// ReadStatus returns the pool's latest Status, in a worker whose master has
// Config.StatusFile set.
func ReadStatus() (Status, error) {
	path := os.Getenv(statusEnv)
	if path == "" || !IsWorker() {
		return Status{}, fmt.Errorf("prefork: ReadStatus outside a worker of a master with StatusFile set (%s is not set)", statusEnv)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Status{}, fmt.Errorf("prefork: reading the pool's status: %w", err)
	}
	var st Status
	if err := json.Unmarshal(data, &st); err != nil {
		return Status{}, fmt.Errorf("prefork: status file %s: %w", path, err)
	}
	return st, nil
}
