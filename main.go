// Command appgen starts Go web projects and writes the server configurations that deploy
// them behind FastCGI, SCGI or AJP. See README.md and docs/index.md.
package main

import (
	"os"

	"github.com/appgen/appgen/internal/command"
	appgenruntime "github.com/appgen/appgen/runtime"
)

// Set by the release build: -ldflags "-X main.version=v1.2.3 -X main.commit=… -X main.date=…".
// An empty version makes appgen report the module version from the build info.
var (
	version string
	commit  string
	date    string
)

// appgenruntime.Files is the runtime module every generated project requires and vendors,
// so the project builds with no network; it is the same version as appgen.
func main() {
	os.Exit(command.Execute(command.Build{Version: version, Commit: commit, Date: date}, appgenruntime.Files, os.Args, os.Stdout, os.Stderr))
}
