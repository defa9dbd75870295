// Package modproxy writes a Go module proxy as a directory (GOPROXY=file://DIR) holding
// module versions made from folders on disk, so tests can run the go command's own module
// machinery (go mod vendor, go get) against a module that is not published, offline.
package modproxy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

// Add writes the module at srcDir (a folder holding its go.mod) into the proxy folder proxy
// as path@version: the .info, .mod and .zip files and the version list the go command asks
// a proxy for, laid out as `go help goproxy` describes. The zip is made by
// golang.org/x/mod/zip, the code the go command itself uses.
func Add(proxy, path, version, srcDir string) error {
	mv := module.Version{Path: path, Version: version}
	if err := module.Check(path, version); err != nil {
		return fmt.Errorf("modproxy: %w", err)
	}
	esc, err := module.EscapePath(path)
	if err != nil {
		return fmt.Errorf("modproxy: %w", err)
	}
	escv, err := module.EscapeVersion(version)
	if err != nil {
		return fmt.Errorf("modproxy: %w", err)
	}
	dir := filepath.Join(proxy, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return fmt.Errorf("modproxy: %w", err)
	}
	mod, err := os.ReadFile(filepath.Join(srcDir, "go.mod"))
	if err != nil {
		return fmt.Errorf("modproxy: %w", err)
	}
	var z bytes.Buffer
	if err := zip.CreateFromDir(&z, mv, srcDir); err != nil {
		return fmt.Errorf("modproxy: zipping %s: %w", srcDir, err)
	}
	info := fmt.Sprintf(`{"Version":%q,"Time":"2026-01-01T00:00:00Z"}`+"\n", version)
	for name, data := range map[string][]byte{escv + ".info": []byte(info), escv + ".mod": mod, escv + ".zip": z.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o666); err != nil {
			return fmt.Errorf("modproxy: %w", err)
		}
	}
	list, err := os.ReadFile(filepath.Join(dir, "list"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("modproxy: %w", err)
	}
	versions := strings.Fields(string(list))
	if !slices.Contains(versions, version) {
		versions = append(versions, version)
	}
	return os.WriteFile(filepath.Join(dir, "list"), []byte(strings.Join(versions, "\n")+"\n"), 0o666)
}

// URL is the GOPROXY value for the proxy folder proxy.
func URL(proxy string) string {
	return "file://" + filepath.ToSlash(proxy)
}
