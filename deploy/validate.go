package deploy

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Every value `appgen config` writes passes one of the checks in this file before any
// template sees it, and is then written with the target's own quoting (quote.go). The two
// layers are independent on purpose: a value the allow-list lets through is still quoted,
// and a quoting function refuses what its syntax cannot carry, so neither layer alone
// decides whether a value can start a directive or run a command.

// Kind is the kind of a value: it decides the allow-list the value is checked against.
type Kind string

// The kinds of value Options hold.
const (
	KindName     Kind = "name"        // project name: letters, digits, '_', '-', starting with a letter
	KindProfile  Kind = "profile"     // settings profile name, as KindName
	KindHost     Kind = "host"        // host name or IP address (IPv6 without brackets)
	KindPort     Kind = "port"        // 1-65535
	KindPath     Kind = "path"        // absolute file system path
	KindURLPath  Kind = "url path"    // absolute URL path
	KindServer   Kind = "server"      // server name: a host name, optionally "*." first
	KindSecret   Kind = "secret"      // AJP secret
	KindUser     Kind = "user"        // system user or group name
	KindListen   Kind = "listen"      // port, or host:port
	KindText     Kind = "text"        // free text that only reaches comments
	KindVersion  Kind = "version"     // appgen version string
	KindProtocol Kind = "protocol"    // one of Protocols
	KindBackend  Kind = "backend"     // host:port or an absolute socket path
	KindCombined Kind = "combination" // valid alone, but not with another field (protocol, target)
	KindImage    Kind = "image"       // container image reference: repository:tag[@sha256:digest]
)

// FieldError is the error for an Options field whose value is refused. Field is the Options
// field's name ("Listen", "ServerNames", "Backends"); Index is the element for list fields
// (-1 otherwise); Part names the part of a composite value that is wrong ("host", "port"),
// or is "". Callers map Field to their own input's name (a flag, a constant).
type FieldError struct {
	Field string
	Index int
	Part  string
	Kind  Kind
	// Value is the refused value; it is "" for secrets, which no message repeats.
	Value string
	// Want says what the field accepts.
	Want string
}

func (e *FieldError) Error() string {
	name := e.Field
	if e.Index >= 0 {
		name += "[" + strconv.Itoa(e.Index) + "]"
	}
	if e.Part != "" {
		name += " " + e.Part
	}
	if e.Kind == KindSecret {
		return fmt.Sprintf("deploy: %s: want %s", name, e.Want)
	}
	return fmt.Sprintf("deploy: %s %q: want %s", name, e.Value, e.Want)
}

// ErrInvalid is wrapped by every FieldError, for callers that test with errors.Is.
var ErrInvalid = errors.New("invalid value")

// Unwrap lets errors.Is(err, ErrInvalid) find any FieldError.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func fieldErr(field string, kind Kind, value, want string) *FieldError {
	if kind == KindSecret {
		value = ""
	}
	return &FieldError{Field: field, Index: -1, Kind: kind, Value: value, Want: want}
}

// What each kind accepts, as error messages say it.
var wants = map[Kind]string{
	KindName:    "letters, digits, '_' and '-', starting with a letter, at most 64 characters",
	KindProfile: "a profile name: letters, digits, '_' and '-', starting with a letter",
	KindHost:    "a host name (letters, digits, '-' and '.') or an IP address",
	KindPort:    "a port number 1-65535",
	KindPath:    "an absolute path of letters, digits and any of -_.+@~,=:/ (no spaces, quotes or shell characters), at most 4096 bytes",
	KindURLPath: "a URL path starting with '/' made of letters, digits and any of -_.~/",
	KindServer:  "a host name such as example.com or a wildcard such as *.example.com",
	KindSecret:  "1-255 characters of letters, digits and any of -_.~+/=:@ (a hex or base64 string)",
	KindUser:    "a system user or group name: lower-case letters, digits, '_' and '-', starting with a letter or '_', at most 32 characters",
	KindListen:  "a port, or host:port with a host name or IP address ([v6]:port)",
	KindText:    "printable ASCII without backslashes",
	KindVersion: "letters, digits and any of -_.+",
	KindImage:   "an image reference such as registry.example.com/team/mysite:1.2.0, optionally @sha256:<64 hex digits>: lower-case repository, tag of letters, digits and -_.",
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// only reports whether every byte of s is a letter, a digit or in extra.
func only(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && !isDigit(c) && strings.IndexByte(extra, c) < 0 {
			return false
		}
	}
	return true
}

// ValidName reports whether s is a project name.
func ValidName(s string) bool {
	return s != "" && len(s) <= 64 && isLetter(s[0]) && only(s, "_-")
}

// ValidProfile reports whether s is a settings profile name.
func ValidProfile(s string) bool { return ValidName(s) }

// ValidHost reports whether s is a host name (RFC 1123 labels) or an IP address. IPv6
// addresses are written without brackets.
func ValidHost(s string) bool {
	if strings.Contains(s, ":") {
		ip := net.ParseIP(s)
		return ip != nil && !strings.Contains(s, "%")
	}
	return validDNSName(s)
}

func validDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' || !only(label, "-") {
			return false
		}
	}
	return true
}

// ValidServerName reports whether s is a server name: a host name, or "*." and a host name
// with at least two labels (*.example.com), the wildcard every supported server can match.
func ValidServerName(s string) bool {
	if rest, ok := strings.CutPrefix(s, "*."); ok {
		return strings.Contains(rest, ".") && validDNSName(rest)
	}
	return !strings.Contains(s, ":") && validDNSName(s)
}

// ValidPort reports whether s is a decimal port number 1-65535 without signs or spaces.
func ValidPort(s string) bool {
	if s == "" || len(s) > 5 || !only(s, "") || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return false
	}
	n, _ := strconv.Atoi(s)
	return n >= 1 && n <= 65535
}

// ValidPath reports whether s is an absolute path made only of characters that every
// target's syntax can carry: letters, digits and -_.+@~,=:/. Spaces, quotes, '$', '%', '\\',
// '#', ';' and control characters are refused; ".." is refused as a path element.
func ValidPath(s string) bool {
	if len(s) == 0 || len(s) > 4096 || s[0] != '/' || !only(s, "-_.+@~,=:/") {
		return false
	}
	for _, e := range strings.Split(s, "/") {
		if e == ".." {
			return false
		}
	}
	return true
}

// ValidURLPath reports whether s is an absolute URL path of unreserved characters
// (letters, digits, -_.~) and slashes, without "//", "." or ".." segments.
func ValidURLPath(s string) bool {
	if s == "" || len(s) > 1024 || s[0] != '/' || !only(s, "-_.~/") || strings.Contains(s, "//") {
		return false
	}
	for _, e := range strings.Split(s, "/") {
		if e == "." || e == ".." {
			return false
		}
	}
	return true
}

// ValidSecret reports whether s is an AJP secret appgen can write: 1-255 characters of
// letters, digits and -_.~+/=:@, which covers hex, base64 and base64url.
func ValidSecret(s string) bool { return s != "" && len(s) <= 255 && only(s, "-_.~+/=:@") }

// ValidUser reports whether s is a portable system user or group name, as useradd accepts
// by default: [a-z_][a-z0-9_-]*, at most 32 characters.
func ValidUser(s string) bool {
	if s == "" || len(s) > 32 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] == '_') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || isDigit(c) || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidText reports whether s may appear in a comment: printable ASCII (space to '~')
// without a backslash, which continues a line in Apache and systemd files.
func ValidText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' || s[i] == '\\' {
			return false
		}
	}
	return len(s) <= 4096
}

// ValidVersion reports whether s looks like a version: letters, digits and -_.+.
func ValidVersion(s string) bool { return s != "" && len(s) <= 128 && only(s, "-_.+") }

// SplitListen splits a listen address ("80", "127.0.0.1:80", "[::1]:80", "example.com:80")
// into host ("" for a bare port) and port, or reports why it cannot.
func SplitListen(s string) (host, port string, ok bool) {
	if ValidPort(s) {
		return "", s, true
	}
	h, p, err := net.SplitHostPort(s)
	if err != nil || !ValidPort(p) || !ValidHost(h) {
		return "", "", false
	}
	// An IPv6 host must come in brackets, and only an IPv6 host may.
	if strings.Contains(h, ":") != strings.HasPrefix(s, "[") {
		return "", "", false
	}
	return h, p, true
}
