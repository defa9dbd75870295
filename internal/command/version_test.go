package command

import (
	"runtime/debug"
	"testing"

	"github.com/appgen/appgen/generator"
)

func TestRuntimeVersion(t *testing.T) {
	vcs := &debug.BuildInfo{Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-12-05T12:34:56Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	const pseudo = "v0.0.0-20261205123456-0123456789ab"
	tests := []struct {
		name, appgen string
		info         *debug.BuildInfo
		want         string
	}{
		{"release", "v1.2.3", vcs, "v1.2.3"},
		{"goreleaser drops the v", "1.2.3", nil, "v1.2.3"},
		{"prerelease", "v1.3.0-rc.1", nil, "v1.3.0-rc.1"},
		{"go install at a commit", pseudo, nil, pseudo},
		{"go 1.24 stamps +dirty: not a module version", "v0.0.0-20261205123456-0123456789ab+dirty", vcs, pseudo},
		{"development build", "devel", vcs, pseudo},
		{"nothing known", "devel", nil, generator.DevelRuntimeVersion},
		{"no vcs time", "devel", &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}}}, generator.DevelRuntimeVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if have := runtimeVersion(tt.appgen, tt.info); have != tt.want {
				t.Errorf("runtimeVersion(%q) = %q, want %q", tt.appgen, have, tt.want)
			}
		})
	}
}
