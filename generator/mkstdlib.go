//go:build ignore

// mkstdlib writes stdlib.txt: the last path element of every standard library package that
// a program can import, one per line, sorted. A project named like one of them would shadow
// it ("os", "http"), so ValidateName refuses those names. Run it with `go generate` after a Go
// upgrade; TestStdlibListIsCurrent fails when the list is stale.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
)

func main() {
	out, err := exec.Command("go", "list", "std").Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "mkstdlib: go list std: %v\n", err)
		os.Exit(1)
	}
	var names []string
	for _, p := range strings.Fields(string(out)) {
		if name, ok := stdName(p); ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	var b bytes.Buffer
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte('\n')
	}
	if err := os.WriteFile("stdlib.txt", b.Bytes(), 0o666); err != nil {
		fmt.Fprintf(os.Stderr, "mkstdlib: %v\n", err)
		os.Exit(1)
	}
}

// stdName mirrors stdPackageName in stdlib.go; the two are kept apart because this file
// is a standalone program.
func stdName(importPath string) (string, bool) {
	for _, elem := range strings.Split(importPath, "/") {
		if elem == "internal" || elem == "vendor" {
			return "", false
		}
	}
	return path.Base(importPath), true
}
