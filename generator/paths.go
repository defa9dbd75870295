package generator

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrUnsafePath is wrapped by CheckPath's errors: a path a project file must not have.
var ErrUnsafePath = errors.New("unsafe path")

// Path limits: a project is written on file systems whose names hold 255 bytes, and a
// template has no business making paths longer than any real project has.
const (
	maxPathElemBytes = 255
	maxPathBytes     = 1024
)

// vcsDirs are directories whose files a version control tool reads as its own settings, and
// runs commands from (git's core.fsmonitor, core.hooksPath; Mercurial's [hooks]). A project
// template writes none of them; a template that tries is hostile.
var vcsDirs = []string{".git", ".hg", ".svn", ".bzr", ".jj", "_darcs"}

// CheckPath checks a project file's path as a template renders it, before anything is
// written or listed: it must be relative and slash-separated, valid UTF-8, without empty, "."
// or ".." elements, backslashes, colons, control or invisible formatting characters, no
// element over 255 bytes nor the whole over 1024, and no element naming a version control
// directory (.git, .hg, .svn, .bzr, .jj, _darcs) in any letter case, nor git's short name
// for .git on Windows (git~1). Each refusal wraps ErrUnsafePath.
//
// The checks are made on the rendered path because the data decides it: a directory named
// "{{"{{"}}.X{{"}}"}}" is harmless in the template and is ".git" once rendered.
func CheckPath(p string) error {
	if p == "" {
		return fmt.Errorf("%w: the path is empty", ErrUnsafePath)
	}
	if len(p) > maxPathBytes {
		return fmt.Errorf("%w: the path is %d bytes; want at most %d", ErrUnsafePath, len(p), maxPathBytes)
	}
	if !utf8.ValidString(p) {
		return fmt.Errorf("%w: %q is not valid UTF-8", ErrUnsafePath, p)
	}
	if p[0] == '/' {
		return fmt.Errorf("%w: %q is absolute; want a path relative to the project directory", ErrUnsafePath, p)
	}
	for _, r := range p {
		switch {
		case r == '\\':
			return fmt.Errorf("%w: %q holds a backslash; want slash-separated elements", ErrUnsafePath, p)
		case r == ':':
			// A drive letter ("C:") or an NTFS alternate data stream ("a:b") on Windows.
			return fmt.Errorf("%w: %q holds a colon", ErrUnsafePath, p)
		case unicode.IsControl(r):
			return fmt.Errorf("%w: %q holds the control character %U", ErrUnsafePath, p, r)
		case unicode.Is(unicode.Cf, r):
			// Invisible formatting characters: HFS+ ignores some of them, so ".g\u200cit" is
			// .git there (git refuses such names for the same reason).
			return fmt.Errorf("%w: %q holds the invisible character %U", ErrUnsafePath, p, r)
		}
	}
	for elem := range strings.SplitSeq(p, "/") {
		switch elem {
		case "":
			return fmt.Errorf("%w: %q has an empty element; want no leading, trailing or doubled slash", ErrUnsafePath, p)
		case ".", "..":
			return fmt.Errorf("%w: %q has a %q element", ErrUnsafePath, p, elem)
		}
		if len(elem) > maxPathElemBytes {
			return fmt.Errorf("%w: an element of %q is %d bytes; want at most %d", ErrUnsafePath, p, len(elem), maxPathElemBytes)
		}
		if dir := vcsDir(elem); dir != "" {
			return fmt.Errorf("%w: %q is inside a %s directory, whose settings a version control tool would run", ErrUnsafePath, p, dir)
		}
	}
	return nil
}

// vcsDir returns the version control directory elem names, or "". Trailing dots and
// spaces are dropped first, as Windows drops them (".git." is .git there).
func vcsDir(elem string) string {
	name := strings.ToLower(strings.TrimRight(elem, ". "))
	if name == "git~1" {
		return ".git"
	}
	for _, d := range vcsDirs {
		if name == d {
			return d
		}
	}
	return ""
}
