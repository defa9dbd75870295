package generator

import (
	"errors"
	"fmt"
	"go/token"
	"strings"

	"golang.org/x/mod/module"
)

// ErrInvalidName is wrapped by every error ValidateName returns.
var ErrInvalidName = errors.New("invalid project name")

// ErrInvalidModule is wrapped by every error ValidateModule returns.
var ErrInvalidModule = errors.New("invalid module path")

// predeclared are the names of Go's universe scope. They are listed rather than asked of
// go/types, whose package initialization costs every appgen command; a test checks the
// list against go/types.Universe.
var predeclared = map[string]bool{
	"any": true, "bool": true, "byte": true, "comparable": true, "complex64": true,
	"complex128": true, "error": true, "float32": true, "float64": true, "int": true,
	"int8": true, "int16": true, "int32": true, "int64": true, "rune": true, "string": true,
	"uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"uintptr": true, "true": true, "false": true, "iota": true, "nil": true, "append": true,
	"cap": true, "clear": true, "close": true, "complex": true, "copy": true, "delete": true,
	"imag": true, "len": true, "make": true, "max": true, "min": true, "new": true,
	"panic": true, "print": true, "println": true, "real": true, "recover": true,
}

// ValidateName checks a project name the way Django checks one for startproject: it
// becomes a directory, a default module path and an identifier in generated code, so it
// must be a lower-case ASCII Go identifier that is not a keyword, not a predeclared
// identifier (shadowing "string" or "len" breaks generated code), and not the name of a
// standard library package (a project named "http" or "os" shadows it).
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("generator: %w: the name is empty; want a lower-case Go identifier such as mysite", ErrInvalidName)
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z':
		case i > 0 && (r >= '0' && r <= '9' || r == '_'):
		case i == 0:
			return fmt.Errorf("generator: %w %q: it must start with a lower-case letter a-z%s", ErrInvalidName, name, suggestName(name))
		default:
			return fmt.Errorf("generator: %w %q: character %q is not allowed; want lower-case letters, digits and underscores%s", ErrInvalidName, name, r, suggestName(name))
		}
	}
	if token.IsKeyword(name) {
		return fmt.Errorf("generator: %w %q: it is a Go keyword", ErrInvalidName, name)
	}
	if predeclared[name] {
		return fmt.Errorf("generator: %w %q: it is a predeclared Go identifier", ErrInvalidName, name)
	}
	if IsStdlibName(name) {
		return fmt.Errorf("generator: %w %q: it is the name of a standard library package; choose another name", ErrInvalidName, name)
	}
	return nil
}

// suggestName returns "; try NAME" for a name that becomes valid when its letters are
// lowered and its dashes, dots and spaces become underscores ("my-site" → "my_site"), as
// Django suggests nothing and users then guess; else "".
func suggestName(name string) string {
	try := strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == '.' || r == ' ':
			return '_'
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return r
	}, name)
	if try == name || ValidateName(try) != nil {
		return ""
	}
	return "; try " + try
}

// ValidateModule checks a Go module path. A path whose first element holds a dot
// ("example.com/mysite") must pass module.CheckPath, as a module others download must; a
// path without one ("mysite", what `go mod init mysite` accepts for a local module) must
// pass module.CheckImportPath, because CheckPath alone would refuse every dotless path,
// including the default module path, the project name.
func ValidateModule(path string) error {
	if path == "" {
		return fmt.Errorf("generator: %w: the module path is empty", ErrInvalidModule)
	}
	first, _, _ := strings.Cut(path, "/")
	var err error
	if strings.Contains(first, ".") {
		err = module.CheckPath(path)
	} else {
		err = module.CheckImportPath(path)
	}
	if err != nil {
		return fmt.Errorf("generator: %w %q: %v", ErrInvalidModule, path, unquotePrefix(err, path))
	}
	return nil
}

// unquotePrefix drops the `malformed module path "x": ` prefix x/mod puts on its errors,
// so the message does not name the path twice.
func unquotePrefix(err error, path string) string {
	msg := err.Error()
	for _, p := range []string{
		fmt.Sprintf("malformed module path %q: ", path),
		fmt.Sprintf("malformed import path %q: ", path),
	} {
		if rest, ok := strings.CutPrefix(msg, p); ok {
			return rest
		}
	}
	return msg
}
