package generator

import (
	_ "embed"
	"path"
	"strings"
	"sync"
)

//go:generate go run mkstdlib.go

// stdlibText is the output of mkstdlib.go: generated from `go list std` rather than
// asked of the toolchain at run time, because appgen must work where no Go toolchain is
// installed yet (and must give the same answer everywhere).
//
//go:embed stdlib.txt
var stdlibText string

var stdlibNames = sync.OnceValue(func() map[string]bool {
	names := make(map[string]bool)
	for _, n := range strings.Fields(stdlibText) {
		names[n] = true
	}
	return names
})

// IsStdlibName reports whether name is the last element of an importable standard
// library package path ("http" for net/http), which a project must not be named after.
func IsStdlibName(name string) bool {
	return stdlibNames()[name]
}

// stdPackageName returns the name a standard library import path gives a project to
// collide with, and false for paths no program can import (internal, vendor).
func stdPackageName(importPath string) (string, bool) {
	for _, elem := range strings.Split(importPath, "/") {
		if elem == "internal" || elem == "vendor" {
			return "", false
		}
	}
	return path.Base(importPath), true
}
