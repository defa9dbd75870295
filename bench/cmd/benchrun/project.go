package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/appgen/appgen/internal/command"
)

// buildProject renders `appgen startproject mysite` into bin/mysite through the command's own
// entry point, from the repository benchrun runs in, and builds it there: the project cases
// serve its own page, as a user's first deployment would.
func buildProject(bin string) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	dir := filepath.Join(bin, "mysite")
	var out bytes.Buffer
	if status := command.Execute(command.Build{Version: "bench"}, os.DirFS(filepath.Join(root, "runtime")), []string{"appgen", "startproject", "mysite", dir}, &out, &out); status != 0 {
		return fmt.Errorf("appgen startproject mysite: status %d (run benchrun from the repository root)\n%s", status, out.String())
	}
	build := exec.Command("go", "build", "-o", "mysite", ".")
	build.Dir = dir
	if msg, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the generated project: %v\n%s", err, msg)
	}
	return nil
}
