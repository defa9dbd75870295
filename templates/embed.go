// Package templates holds the templates appgen renders, embedded in the appgen binary.
//
// Project is the default project template that `appgen startproject` renders (the server
// configuration templates live beside their targets' code in package deploy). docs/design.md
// describes their conventions: files named *.tmpl are rendered with text/template and lose the suffix, paths
// are rendered too, and other files are copied as they are. The project template gets the
// generator's hermetic subset of sprig's functions, as a user's --template does.
package templates

import (
	"embed"
	"io/fs"
)

// The all: prefix keeps dotfiles (.gitignore) in the template, as a project needs them.
//
//go:embed all:project
var project embed.FS

// Project is the default project template, rooted at the project directory.
var Project = mustSub(project, "project")

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		// fs.Sub fails only for an invalid path, and dir is a constant above.
		panic(err)
	}
	return sub
}
