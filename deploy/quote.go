package deploy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"unicode/utf8"
)

// Quoting, one function per syntax a template writes. Each writes a value as one token of its
// target's language and refuses (with an error that fails the render) what that syntax cannot
// carry, whatever the allow-lists in validate.go let through: a value can never end a token,
// start a directive or be expanded by the program that reads the file.

// quoteFuncs are the quoting functions templates use. The config-language ones take the
// value and, optionally, literal text from the template to put inside the same quotes before
// and after it ("^" and "/(.*)$" around a regular-expression-escaped prefix); only the value
// is checked, the literals are the template's own.
var quoteFuncs = template.FuncMap{
	"sh":      shellQuote,
	"nginx":   func(v string, lit ...string) (string, error) { return configString("an nginx string", v, false, lit) },
	"nginxre": func(v string, lit ...string) (string, error) { return configString("an nginx string", v, true, lit) },
	"apache": func(v string, lit ...string) (string, error) {
		return configString("an Apache argument", v, false, lit)
	},
	"apachere":   func(v string, lit ...string) (string, error) { return configString("an Apache argument", v, true, lit) },
	"lighttpd":   func(v string, lit ...string) (string, error) { return configString("a lighttpd string", v, false, lit) },
	"lighttpdre": func(v string, lit ...string) (string, error) { return configString("a lighttpd string", v, true, lit) },
	"cherokee":   cherokeeValue,
	"caddy":      func(v string, lit ...string) (string, error) { return caddyToken(v, lit) },
	"haproxy":    func(v string, lit ...string) (string, error) { return haproxyArg(v, false, lit) },
	"haproxyre":  func(v string, lit ...string) (string, error) { return haproxyArg(v, true, lit) },
	"yaml":       func(v string, lit ...string) (string, error) { return yamlScalar(v, lit) },
	"yamljson":   yamlString,
	"unitarg":    systemdArg,
	"unitval":    systemdValue,
	"unitenv":    systemdEnv,
	"comment":    commentText,
}

// controlChar returns the first control character (or DEL) in s, or -1.
func controlChar(s string) int {
	return strings.IndexFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })
}

func refuse(syntax, s, why string) error {
	return fmt.Errorf("deploy: %s cannot carry %q: %s", syntax, s, why)
}

// shellQuote writes s as one POSIX shell word in single quotes, where nothing is special;
// a single quote becomes '\” (close, escaped quote, reopen). Only NUL cannot be carried.
func shellQuote(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", refuse("a shell word", s, "NUL byte")
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'", nil
}

// configString writes v as a double-quoted string of nginx, Apache (core and mod_rewrite)
// or lighttpd, between the template's literal text lit[0] and lit[1]. The three lexers agree
// on what a double-quoted string is only for text without '"' and '\' (each has its own
// escapes, and mod_rewrite keeps backslashes that core Apache removes), so v may hold
// neither; nor '$' or '%', which nginx, Apache's ${VAR} and mod_rewrite's %{VAR} expand
// inside quotes; nor control characters, which end a directive. With re, v is written as a
// regular expression matching itself (regexp.QuoteMeta): its backslashes then only ever
// precede a punctuation character, which all three lexers pass through unchanged.
func configString(syntax, v string, re bool, lit []string) (string, error) {
	if controlChar(v) >= 0 {
		return "", refuse(syntax, v, "control character")
	}
	if strings.ContainsAny(v, `\"$%`) {
		return "", refuse(syntax, v, `'"', '\', '$' and '%' are quoted or expanded differently by each server`)
	}
	if re {
		v = regexp.QuoteMeta(v)
	}
	pre, post, err := literals(syntax, lit)
	if err != nil {
		return "", err
	}
	return `"` + pre + v + post + `"`, nil
}

// caddyToken writes v as one double-quoted Caddyfile token, between the template's literal
// text lit[0] and lit[1]. Inside double quotes Caddy's lexer takes '\' as an escape and
// '"' as the end; before lexing it replaces {$VAR} anywhere in the file with the
// environment's value, and most directives expand {placeholders} in their arguments at
// run time: so v may hold none of '"', '\', '{', '}', nor a control character (a newline
// inside quotes would be carried, but no value needs one).
func caddyToken(v string, lit []string) (string, error) {
	if controlChar(v) >= 0 {
		return "", refuse("a Caddyfile token", v, "control character")
	}
	if strings.ContainsAny(v, `"\{}`) {
		return "", refuse("a Caddyfile token", v, `'"', '\', '{' and '}' end a token, escape, or expand`)
	}
	pre, post, err := literals("a Caddyfile token", lit)
	if err != nil {
		return "", err
	}
	return `"` + pre + v + post + `"`, nil
}

// haproxyArg writes v as one single-quoted haproxy.cfg word, between the template's literal
// text lit[0] and lit[1]. Inside single quotes HAProxy takes everything as it is (no
// escapes, no environment variables, no comments) up to the next "'": so v may hold no
// "'" and no control character, and no '%', which starts a sample expression in the
// arguments HAProxy reads as log-format strings (a redirect's location). With re, v is
// written as a regular expression matching itself.
func haproxyArg(v string, re bool, lit []string) (string, error) {
	if controlChar(v) >= 0 {
		return "", refuse("a haproxy.cfg word", v, "control character")
	}
	if strings.ContainsAny(v, "'%") {
		return "", refuse("a haproxy.cfg word", v, `"'" ends the quotes and '%' starts a sample expression`)
	}
	if re {
		v = regexp.QuoteMeta(v)
	}
	pre, post, err := literals("a haproxy.cfg word", lit)
	if err != nil {
		return "", err
	}
	return "'" + pre + v + post + "'", nil
}

// yamlScalar writes v as one single-quoted YAML scalar (h2o.conf), between the template's
// literal text lit[0] and lit[1]. Inside single quotes YAML takes everything as it is up to
// the next "'", which is written twice; no escapes, tags, anchors, aliases or comments. It
// folds line breaks, so v may hold none: no control character, nor NEL, LINE SEPARATOR or
// PARAGRAPH SEPARATOR, which YAML 1.1 (h2o's libyaml) reads as line breaks; nor a byte
// order mark or any other character YAML does not print, nor invalid UTF-8.
func yamlScalar(v string, lit []string) (string, error) {
	if !utf8.ValidString(v) {
		return "", refuse("a YAML scalar", v, "invalid UTF-8")
	}
	for _, r := range v {
		if !yamlPrintable(r) {
			return "", refuse("a YAML scalar", v, fmt.Sprintf("%U is a control character, a line break or not printable in YAML", r))
		}
	}
	pre, post, err := literals("a YAML scalar", lit)
	if err != nil {
		return "", err
	}
	return "'" + strings.ReplaceAll(pre+v+post, "'", "''") + "'", nil
}

// yamlString writes v as a YAML double-quoted scalar that is also a JSON string (the
// Kubernetes manifests, whose reader takes such strings): nothing in it
// can start a key, an anchor, an alias or a tag. Control characters are refused.
func yamlString(v string) (string, error) {
	if controlChar(v) >= 0 {
		return "", refuse("a YAML string", v, "control character")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("deploy: %w", err)
	}
	return string(b), nil
}

// yamlPrintable reports whether r is a character YAML 1.1 prints that is not a line break
// or a tab: [#x20-#x7E] | [#xA0-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF], less
// U+2028, U+2029 and U+FEFF.
func yamlPrintable(r rune) bool {
	switch {
	case r == 0x2028 || r == 0x2029 || r == 0xFEFF:
		return false
	case r >= 0x20 && r <= 0x7E, r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// literals splits a quoting function's optional literal text into what goes before and
// after the value.
func literals(syntax string, lit []string) (pre, post string, err error) {
	switch len(lit) {
	case 0:
	case 1:
		pre = lit[0]
	case 2:
		pre, post = lit[0], lit[1]
	default:
		return "", "", fmt.Errorf("deploy: %s: want a value and at most two literals, got %d", syntax, len(lit))
	}
	return pre, post, nil
}

// cherokeeValue writes s as the value of a cherokee.conf "key = value" line, which runs to
// the end of the line with surrounding spaces trimmed and has no quoting at all: control
// characters and surrounding spaces are refused.
func cherokeeValue(s string) (string, error) {
	if i := controlChar(s); i >= 0 {
		return "", refuse("a cherokee.conf value", s, "control character")
	}
	if s == "" || strings.TrimSpace(s) != s {
		return "", refuse("a cherokee.conf value", s, "empty or surrounded by spaces")
	}
	return s, nil
}

// systemdArg writes s as one argument of a unit's ExecStart=: double-quoted, with '\' and '"'
// escaped, '%' (specifiers) doubled and '$' (environment expansion) doubled.
func systemdArg(s string) (string, error) {
	if i := controlChar(s); i >= 0 {
		return "", refuse("a systemd argument", s, "control character")
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, `%`, `%%`, `$`, `$$`).Replace(s) + `"`, nil
}

// systemdEnv writes one Environment= assignment, KEY=value, double-quoted: '\' and '"' are
// escaped and '%' doubled; systemd does not expand '$' there. key must be a shell
// variable name.
func systemdEnv(key, value string) (string, error) {
	if key == "" || !only(key, "_") || isDigit(key[0]) {
		return "", refuse("a systemd environment variable name", key, "want letters, digits and '_'")
	}
	if controlChar(value) >= 0 {
		return "", refuse("a systemd environment value", value, "control character")
	}
	return `"` + key + "=" + strings.NewReplacer(`\`, `\\`, `"`, `\"`, `%`, `%%`).Replace(value) + `"`, nil
}

// systemdValue writes s as a unit setting's whole value (WorkingDirectory=, User=,
// RuntimeDirectory=): '%' (specifiers) is doubled. Many settings split their value into a
// list at spaces and some unquote it, so spaces, quotes, control characters and a trailing
// backslash (a continued line) are refused.
func systemdValue(s string) (string, error) {
	if i := controlChar(s); i >= 0 {
		return "", refuse("a systemd value", s, "control character")
	}
	if strings.ContainsAny(s, " \"'") || strings.HasSuffix(s, `\`) {
		return "", refuse("a systemd value", s, "spaces, quotes or a trailing backslash")
	}
	return strings.ReplaceAll(s, "%", "%%"), nil
}

// commentText is s for a "# ..." comment line in any target: printable ASCII without a
// backslash, which would continue the comment onto the next line in Apache and systemd.
func commentText(s string) (string, error) {
	if !ValidText(s) {
		return "", refuse("a comment", s, "control character, non-ASCII or backslash")
	}
	return s, nil
}
