// Command appgen starts Go web projects and writes the server configurations that deploy
// them behind FastCGI, SCGI or AJP. See README.md and docs/index.md.
package main

import (
	"embed"
	"os"

	"github.com/appgen/appgen/internal/command"
)

// Set by the release build: -ldflags "-X main.version=v1.2.3 -X main.commit=… -X main.date=…".
// An empty version makes appgen report the module version from the build info.
var (
	version string
	commit  string
	date    string
)

// runtimeSources are the runtime packages every generated project bundles, so the project
// builds with no network. The generator leaves their tests and testdata out.
//
//go:embed runtime
var runtimeSources embed.FS

func main() {
	os.Exit(command.Execute(command.Build{Version: version, Commit: commit, Date: date}, runtimeSources, os.Args, os.Stdout, os.Stderr))
}
