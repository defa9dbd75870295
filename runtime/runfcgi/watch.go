package runfcgi

import (
	"context"
	"fmt"
	"os"
	"time"
)

// watch calls changed once, from its own goroutine, when path's modification
// time changes or the file is replaced or removed: mod_fcgid does not
// restart an application whose script was touched, so the application
// notices itself and exits, and the web server spawns a fresh one.
func watch(ctx context.Context, path string, every time.Duration, changed func()) error {
	was, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("runfcgi: watch=%s: %w", path, err)
	}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			now, err := os.Stat(path)
			if err != nil || !now.ModTime().Equal(was.ModTime()) || !os.SameFile(now, was) {
				changed()
				return
			}
		}
	}()
	return nil
}
