package command

import (
	"runtime/debug"
	"time"

	"github.com/appgen/appgen/generator"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// buildInfo is the binary's build information, or nil (a binary built without modules).
func buildInfo() *debug.BuildInfo {
	info, _ := debug.ReadBuildInfo()
	return info
}

// runtimeVersion is the version of the runtime module that this appgen vendors into the
// projects it writes, and that their go.mod requires. A release of appgen vX.Y.Z carries
// runtime vX.Y.Z (the same tree, tagged runtime/vX.Y.Z); an appgen installed at a commit
// (`go install …@abcdef`) already has a pseudo-version and the runtime gets the same one; a
// development build gets the pseudo-version of the commit it was built from
// (v0.0.0-YYYYMMDDhhmmss-abcdefabcdef, from the build info's vcs.time and vcs.revision, even
// when the tree had uncommitted changes: vcs.modified is not part of a version). A build
// with none of this (go test, -buildvcs=false) gets generator.DevelRuntimeVersion.
func runtimeVersion(appgen string, info *debug.BuildInfo) string {
	for _, v := range []string{appgen, "v" + appgen} {
		if semver.IsValid(v) && semver.Canonical(v) == v {
			return v
		}
	}
	if info != nil {
		var rev, at string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			}
		}
		if t, err := time.Parse(time.RFC3339, at); err == nil && len(rev) >= 12 {
			return module.PseudoVersion("v0", "", t, rev[:12])
		}
	}
	return generator.DevelRuntimeVersion
}
