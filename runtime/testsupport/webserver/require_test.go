package webserver_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// fakeTB records how Require ends a test; Fatalf and Skipf stop the goroutine, as the
// real ones do.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestRequireMissingProgram(t *testing.T) {
	tests := []struct {
		ci        string
		wantFatal bool
	}{
		{"", false},
		{"false", false},
		{"true", true},
	}
	for _, tt := range tests {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			f := &fakeTB{}
			done := make(chan struct{})
			go func() {
				defer close(done)
				webserver.RequireProgram(f, "appgen-no-such-server")
			}()
			<-done
			msg := f.skip
			if tt.wantFatal {
				msg = f.fatal
			}
			if msg == "" || !strings.Contains(msg, "appgen-no-such-server is not installed") {
				t.Fatalf("fatal %q, skip %q; want the %s to say the program is missing", f.fatal, f.skip, map[bool]string{true: "failure", false: "skip"}[tt.wantFatal])
			}
			if tt.wantFatal && f.skip != "" || !tt.wantFatal && f.fatal != "" {
				t.Fatalf("fatal %q, skip %q: wrong outcome for CI=%q", f.fatal, f.skip, tt.ci)
			}
		})
	}
}

func TestRequireFindsSbin(t *testing.T) {
	// Servers live in /usr/sbin, which a non-root PATH lacks.
	webserver.Require(t, webserver.Nginx)
	t.Setenv("PATH", "/nonexistent")
	if p := webserver.Require(t, webserver.Nginx); !strings.HasSuffix(p, "/nginx") {
		t.Fatalf("Require(nginx) with an empty PATH = %q", p)
	}
}
