package command

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/appgen/appgen/deploy"
	"github.com/appgen/appgen/generator"
)

// withDeployFiles adds what `appgen config` would write for the new project (deploy/*.conf,
// the NAME.fcgi launcher), so a project starts with configurations matching its
// settings/deploy.go. A template without go.mod or settings/deploy.go is not laid out like
// an appgen project and gets none. dir is where the project will live: the launcher and
// configurations name its absolute path. When deploy refuses that path (a space, a quote:
// a *FieldError for Dir), the project is still created, without them, and note says why.
func withDeployFiles(files []generator.File, dir, version string) (_ []generator.File, note string, _ error) {
	p, err := readRenderedProject(files)
	if errors.Is(err, deploy.ErrNotProject) {
		return files, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	if p.Dir, err = filepath.Abs(dir); err != nil {
		return nil, "", fmt.Errorf("command: target %s: %w", dir, err)
	}
	extra, err := deploy.ProjectFiles(p, version)
	var fe *deploy.FieldError
	if errors.As(err, &fe) && fe.Field == "Dir" {
		return files, fmt.Sprintf("The server configurations were not written: %v.\n"+
			"Run 'appgen config SERVER --dir DIR' in the project to write them for the directory it is served from.", err), nil
	}
	if err != nil {
		return nil, "", err
	}
	have := make(map[string]bool, len(files))
	for _, f := range files {
		have[f.Path] = true
	}
	// A copy: appending and sorting in place would rewrite the caller's slice when it has
	// spare capacity, and startproject compares that slice with the result to know which
	// files are deploy files.
	files = slices.Clone(files)
	for _, f := range extra {
		if have[f.Path] {
			return nil, "", fmt.Errorf("command: the template's %s is also a file appgen config writes for the project; rename or remove it", f.Path)
		}
		files = append(files, generator.File{Path: f.Path, Mode: f.Mode, Data: f.Data})
	}
	slices.SortFunc(files, func(a, b generator.File) int { return strings.Compare(a.Path, b.Path) })
	return files, "", nil
}

// readRenderedProject gives deploy.ReadProject, which reads a directory, the two rendered
// files it parses, in a scratch directory: the project itself is not written yet.
func readRenderedProject(files []generator.File) (deploy.Project, error) {
	scratch, err := os.MkdirTemp("", "appgen-project-")
	if err != nil {
		return deploy.Project{}, fmt.Errorf("command: %w", err)
	}
	defer os.RemoveAll(scratch)
	for _, f := range files {
		if f.Path != "go.mod" && f.Path != deploy.DeploySettingsFile {
			continue
		}
		p := filepath.Join(scratch, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return deploy.Project{}, fmt.Errorf("command: %w", err)
		}
		if err := os.WriteFile(p, f.Data, 0o600); err != nil {
			return deploy.Project{}, fmt.Errorf("command: %w", err)
		}
	}
	return deploy.ReadProject(scratch)
}
