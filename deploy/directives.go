package deploy

import (
	"fmt"
	"strconv"
	"strings"
)

// Directive lists: each target's output read back the way its program's lexer reads it,
// reduced to what decides behaviour (directive names, argument counts, expansions) and
// stripped of the values themselves. Check refuses an output holding a directive its target
// never writes, and the property test compares the list a hostile value gives with the one a
// benign value gives: a value that changed where a token, directive or command ends would
// change the list.

// syntax is the language of a target's output: the reader that lists its directives, and
// the directives appgen writes in it. A target names its syntax (target.syntax); a new
// language is one more variable beside its target, with its reader and its known list.
type syntax struct {
	name string
	read func(text string) ([]string, error)
	// known are the directives (nginx, Apache), bare words (lighttpd), settings (systemd),
	// instructions (Dockerfile) or key paths (h2o, YAML) appgen's templates write; Check
	// refuses any other. nil: Check lists nothing, as the syntax's check runs nothing
	// (sh -n, Cherokee's key structure).
	known []string
	// free, when set, reports a listed name that is no directive (a map's entry, a block's
	// end, a value), which Check lets through.
	free func(name string) bool
}

func (s *syntax) String() string { return s.name }

var (
	syntaxNginx = &syntax{name: "nginx", read: nginxDirectives,
		known: []string{"map", "upstream", "server", "keepalive", "listen", "server_name", "root", "location",
			"alias", "return", "try_files", "proxy_pass", "proxy_http_version", "proxy_set_header",
			"fastcgi_pass", "fastcgi_keep_conn", "fastcgi_param", "scgi_pass", "scgi_param",
			"fastcgi_next_upstream", "fastcgi_next_upstream_tries", "fastcgi_connect_timeout", "scgi_next_upstream",
			"scgi_next_upstream_tries", "scgi_connect_timeout", "proxy_next_upstream", "proxy_next_upstream_tries",
			"proxy_connect_timeout"},
		free: func(name string) bool { return name == "K" || name == "default" }, // a map's entries
	}
	syntaxApache = &syntax{name: "apache", read: apacheDirectives,
		known: []string{"<VirtualHost", "</VirtualHost>", "ServerName", "ServerAlias", "DocumentRoot",
			"<Directory", "</Directory>", "Require", "Alias", "<Files", "</Files>", "SetHandler", "Options",
			"FcgidMaxRequestLen", "RewriteEngine", "RewriteRule", "RewriteCond", "RewriteBase", "SetEnvIf",
			"ProxyPassReverse", "ProxyPass", "RedirectMatch", "<Proxy", "</Proxy>", "ProxySet", "BalancerMember"},
	}
	syntaxLighttpd = &syntax{name: "lighttpd", read: lighttpdTokens,
		known: []string{"$HTTP", "server.document-root", "alias.url", "fastcgi.server", "scgi.server",
			"fastcgi.balance", "scgi.balance", "setenv.add-environment", "url.rewrite-once", "url.redirect",
			"url.rewrite-if-not-file"},
		free: lighttpdValue,
	}
	syntaxCherokee = &syntax{name: "cherokee", read: cherokeeKeyList}
	syntaxShell    = &syntax{name: "sh", read: shellCommands}
	syntaxSystemd  = &syntax{name: "systemd", read: systemdSettings,
		known: []string{"[Unit]", "[Service]", "[Install]", "Description", "After", "Type", "User", "Group",
			"SupplementaryGroups", "RuntimeDirectory", "RuntimeDirectoryMode", "WorkingDirectory",
			"Environment", "EnvironmentFile", "ExecStart", "ExecReload", "NotifyAccess", "KillSignal", "TimeoutStopSec", "Restart",
			"RestartSec", "NoNewPrivileges", "PrivateTmp", "ProtectSystem", "WantedBy",
			"Requires", "[Socket]", "ListenStream", "SocketUser", "SocketGroup", "SocketMode", "DirectoryMode",
			"FileDescriptorName", "Service"},
	}
	syntaxCaddy = &syntax{name: "caddyfile", read: caddyLines,
		known: []string{"Q", "bind", "root", "route", "handle_path", "file_server", "redir", "@docroot_file", "file",
			"not", "handle", "reverse_proxy", "transport", "env", "lb_policy", "lb_try_duration", "fail_duration",
			"max_fails", "unhealthy_status"},
		free: func(name string) bool { return name == "}" },
	}
	syntaxHAProxy = &syntax{name: "haproxy", read: haproxyLines,
		known: []string{"global", "maxconn", "defaults", "mode", "timeout", "fcgi-app", "docroot", "path-info",
			"option", "frontend", "bind", "acl", "http-request", "default_backend", "backend", "use-fcgi-app",
			"balance", "retries", "retry-on", "default-server", "server", "http-reuse", "user", "group"},
	}
	syntaxH2O = &syntax{name: "h2o", read: h2oKeys,
		// every key path appgen writes, from the top ("Q" a quoted host or URL path)
		known: []string{"user", "listen", "listen>host", "listen>port", "hosts", "hosts>Q", "hosts>Q>paths",
			"hosts>Q>paths>Q", "hosts>Q>paths>Q>file.dir", "hosts>Q>paths>Q>file.dirlisting", "hosts>Q>paths>Q>redirect", "hosts>Q>paths>Q>redirect>url",
			"hosts>Q>paths>Q>redirect>status", "hosts>Q>paths>Q>fastcgi.connect", "hosts>Q>paths>Q>fastcgi.connect>host",
			"hosts>Q>paths>Q>fastcgi.connect>port", "hosts>Q>paths>Q>fastcgi.connect>type", "hosts>Q>paths>Q>fastcgi.spawn",
			"hosts>Q>paths>Q>fastcgi.timeout.keepalive", "hosts>Q>paths>Q>fastcgi.document_root",
			"hosts>Q>paths>Q>setenv", "hosts>Q>paths>Q>setenv>SCRIPT_NAME"},
	}
)

// lighttpdValue reports a name in lighttpd's list that is a number, punctuation or a string
// ("S"), not a key.
func lighttpdValue(name string) bool {
	return strings.IndexFunc(name, func(r rune) bool { return r < '0' || r > '9' }) < 0 ||
		len(name) <= 2 && strings.Trim(name, "(){}[],=+!:~>") == "" || name == "S"
}

// directives returns text's directive list in its syntax.
func directives(s *syntax, text string) ([]string, error) {
	if s == nil || s.read == nil {
		return nil, fmt.Errorf("deploy: no directive reader for %v", s)
	}
	return s.read(text)
}

// nginxDirectives follows ngx_conf_read_token: tokens split at whitespace, ';', '{' and
// '}'; '#' at a token's start comments out the rest of the line; "..." and '...' quote,
// and a backslash escapes the next character. Each entry is "name/ARGS" where ARGS has
// one digit per argument: the number of variables ('$' then a letter, '_' or '{') in it.
func nginxDirectives(text string) ([]string, error) {
	var out, words, blocks []string
	var vars []int
	var cur strings.Builder
	inWord, curVars := false, 0
	end := func() {
		if inWord {
			words = append(words, cur.String())
			vars = append(vars, curVars)
		}
		cur.Reset()
		inWord, curVars = false, 0
	}
	emit := func(term string) error {
		end()
		if len(words) == 0 {
			return fmt.Errorf("deploy: nginx: %q with no directive", term)
		}
		var b strings.Builder
		name := words[0]
		if len(blocks) > 0 && blocks[len(blocks)-1] == "map" && name != "default" {
			// A map's entries are source values, not directives.
			name = "K"
		}
		b.WriteString(name + "/")
		for _, v := range vars[1:] {
			b.WriteString(strconv.Itoa(v))
		}
		out = append(out, b.String()+term)
		if term == "{" {
			blocks = append(blocks, name)
		}
		words, vars = nil, nil
		return nil
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '#' && !inWord:
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			end()
		case c == ';' || c == '{':
			if err := emit(string(c)); err != nil {
				return nil, err
			}
		case c == '}':
			end()
			if len(words) != 0 {
				return nil, fmt.Errorf("deploy: nginx: directive %q not ended before '}'", words[0])
			}
			if len(blocks) == 0 {
				return nil, fmt.Errorf("deploy: nginx: unexpected '}'")
			}
			blocks = blocks[:len(blocks)-1]
			out = append(out, "}")
		case (c == '"' || c == '\'') && !inWord:
			q := c
			inWord = true
			for i++; ; i++ {
				if i >= len(text) {
					return nil, fmt.Errorf("deploy: nginx: unterminated string")
				}
				if text[i] == '\\' && i+1 < len(text) {
					cur.WriteByte(text[i+1])
					i++
					continue
				}
				if text[i] == q {
					break
				}
				curVars += varAt(text, i)
				cur.WriteByte(text[i])
			}
			// A quoted token must be followed by a separator.
			if i+1 < len(text) && !strings.ContainsRune(" \t\r\n;{}", rune(text[i+1])) {
				return nil, fmt.Errorf("deploy: nginx: unexpected %q after a quoted string", text[i+1])
			}
			end()
		case c == '\\' && i+1 < len(text):
			inWord = true
			cur.WriteByte(text[i+1])
			i++
		default:
			inWord = true
			curVars += varAt(text, i)
			cur.WriteByte(c)
		}
	}
	end()
	if len(words) != 0 {
		return nil, fmt.Errorf("deploy: nginx: directive %q has no ';'", words[0])
	}
	return out, nil
}

// varAt is 1 when text[i] starts a variable reference ($name or ${name}).
func varAt(text string, i int) int {
	if text[i] != '$' || i+1 >= len(text) {
		return 0
	}
	c := text[i+1]
	if isLetter(c) || c == '_' || c == '{' || isDigit(c) {
		return 1
	}
	return 0
}

// apacheDirectives follows Apache's reading of a configuration: a line ending in a
// backslash continues on the next; a line whose first non-blank character is '#' is a
// comment; arguments split as ap_getword_conf does ("..." and '...' quote). Each entry is
// the directive (or "<Section", "</Section>") and its argument count, plus an "!expand" for
// each ${VAR} in an argument.
func apacheDirectives(text string) ([]string, error) {
	var out []string
	text = strings.ReplaceAll(text, "\\\n", "")
	for _, line := range strings.Split(text, "\n") {
		line = strings.Trim(line, apacheSpace)
		if line == "" || line[0] == '#' {
			continue
		}
		words, err := apacheWords(line)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(words[0], "<") && !strings.HasPrefix(words[0], "</") {
			last := words[len(words)-1]
			if !strings.HasSuffix(last, ">") {
				return nil, fmt.Errorf("deploy: apache: section %s not closed with '>'", words[0])
			}
			words[len(words)-1] = strings.TrimSuffix(last, ">")
			if words[len(words)-1] == "" {
				words = words[:len(words)-1]
			}
		}
		entry := words[0] + "/" + strconv.Itoa(len(words)-1)
		for _, w := range words[1:] {
			if strings.Contains(w, "${") {
				entry += "!expand"
			}
		}
		out = append(out, entry)
	}
	return out, nil
}

// apacheSpace is what Apache trims lines and splits arguments at (apr_isspace): ASCII
// only, so a U+0085 or U+00A0 is part of a word.
const apacheSpace = " \t\n\v\f\r"

func apacheWords(line string) ([]string, error) {
	var words []string
	for i := 0; i < len(line); {
		for i < len(line) && strings.IndexByte(apacheSpace, line[i]) >= 0 {
			i++
		}
		if i >= len(line) {
			break
		}
		var w strings.Builder
		if q := line[i]; q == '"' || q == '\'' {
			i++
			for ; i < len(line) && line[i] != q; i++ {
				if line[i] == '\\' && i+1 < len(line) && (line[i+1] == q || line[i+1] == '\\') {
					i++
				}
				w.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, fmt.Errorf("deploy: apache: unterminated quote in %q", line)
			}
			i++
		} else {
			for ; i < len(line) && strings.IndexByte(apacheSpace, line[i]) < 0; i++ {
				w.WriteByte(line[i])
			}
		}
		words = append(words, w.String())
	}
	return words, nil
}

// lighttpdTokens follows lighttpd's configuration lexer: '#' comments to the end of the
// line outside strings; "..." strings where \" is the only escape; operators and
// punctuation; bare words (keys, numbers, $HTTP conditions). Strings become "S"; the rest
// is kept as written, so the list says which keys are set and with what structure.
func lighttpdTokens(text string) ([]string, error) {
	var out []string
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '#':
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case c == '"':
			for i++; ; i++ {
				if i >= len(text) {
					return nil, fmt.Errorf("deploy: lighttpd: unterminated string")
				}
				if text[i] == '\\' && i+1 < len(text) && text[i+1] == '"' {
					i++
					continue
				}
				if text[i] == '"' {
					break
				}
			}
			i++
			out = append(out, "S")
		case strings.IndexByte("(){}[],", c) >= 0:
			out = append(out, string(c))
			i++
		case strings.IndexByte("=+!:", c) >= 0:
			j := i + 1
			for j < len(text) && strings.IndexByte("=>~", text[j]) >= 0 {
				j++
			}
			out = append(out, text[i:j])
			i = j
		default:
			j := i
			for j < len(text) && strings.IndexByte(" \t\r\n#\"(){}[],=+!:", text[j]) < 0 {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("deploy: lighttpd: unexpected %q", c)
			}
			out = append(out, text[i:j])
			i = j
		}
	}
	return out, nil
}

// cherokeeKeyList lists the keys of cherokee.conf's "key = value" lines; a line that is not
// blank, a comment or such a line is an error.
func cherokeeKeyList(text string) ([]string, error) {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		key, _, ok := strings.Cut(line, " = ")
		if !ok || strings.ContainsAny(key, " \t") {
			return nil, fmt.Errorf("deploy: cherokee: line %q is not key = value", line)
		}
		out = append(out, key)
	}
	return out, nil
}

// shellCommands follows the POSIX shell's token recognition: '#' at a word's start
// comments to the end of the line; '...' quotes everything; "..." quotes all but '$', '`'
// and '\'; a backslash outside quotes escapes the next character; operators (; & | && ||
// ;; ( ) < > >> newline) separate words. Each word becomes "W" followed by the expansions
// in it ("$NAME", "$(", "`", "${"), and each operator stands for itself, so the list shows
// every command, every argument and every expansion.
func shellCommands(text string) ([]string, error) {
	var out []string
	var word strings.Builder
	inWord := false
	end := func() {
		if inWord {
			out = append(out, "W"+word.String())
		}
		word.Reset()
		inWord = false
	}
	expansion := func(i int) (string, int) {
		// text[i] == '$'
		if i+1 >= len(text) {
			return "", i
		}
		switch c := text[i+1]; {
		case c == '(':
			return "$(", i + 1
		case c == '{':
			return "${", i + 1
		case isLetter(c) || c == '_':
			j := i + 1
			for j < len(text) && (isLetter(text[j]) || isDigit(text[j]) || text[j] == '_') {
				j++
			}
			return "$" + text[i+1:j], j - 1
		case isDigit(c) || strings.IndexByte("@*#?-$!", c) >= 0:
			return "$" + string(c), i + 1
		}
		return "", i
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '#' && !inWord:
			for i < len(text) && text[i] != '\n' {
				i++
			}
			i--
		case c == ' ' || c == '\t':
			end()
		case c == '\n' || strings.IndexByte(";&|()<>", c) >= 0:
			end()
			op := string(c)
			if i+1 < len(text) && c != '\n' && strings.IndexByte(";&|>", text[i+1]) >= 0 && text[i+1] == c {
				op += string(text[i+1])
				i++
			}
			if op == "\n" {
				op = "NL"
			}
			out = append(out, op)
		case c == '\\':
			inWord = true
			i++
		case c == '\'':
			inWord = true
			j := strings.IndexByte(text[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("deploy: sh: unterminated '")
			}
			i += j + 1
		case c == '"':
			inWord = true
			for i++; ; i++ {
				if i >= len(text) {
					return nil, fmt.Errorf("deploy: sh: unterminated \"")
				}
				if text[i] == '\\' {
					i++
					continue
				}
				if text[i] == '"' {
					break
				}
				if text[i] == '`' {
					word.WriteString("`")
				}
				if text[i] == '$' {
					e, j := expansion(i)
					word.WriteString(e)
					i = j
				}
			}
		case c == '`':
			inWord = true
			word.WriteString("`")
		case c == '$':
			inWord = true
			e, j := expansion(i)
			word.WriteString(e)
			i = j
		default:
			inWord = true
		}
	}
	end()
	return out, nil
}

// systemdSettings follows systemd's unit file reading: blank lines and lines starting with
// '#' or ';' are skipped, a trailing backslash continues a line, "[Section]" starts a
// section. Each setting becomes "Key/WORDS" plus marks: ExecStart=, ExecReload= and
// Environment= values are split as systemd splits them (quotes, backslash escapes) and marked
// "%" for each specifier and, for the commands, "$" for each variable expansion ("%%" and "$$" are
// literal); other values are split at whitespace, marked "%" for each specifier and '"'
// or "'" for each quote, which some settings interpret.
func systemdSettings(text string) ([]string, error) {
	var out []string
	text = strings.ReplaceAll(text, "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.Trim(line, systemdSpace)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("deploy: systemd: bad section line %q", line)
			}
			out = append(out, line)
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		key, value = strings.Trim(key, systemdSpace), strings.Trim(value, systemdSpace)
		if !ok || key == "" || !only(key, "") {
			return nil, fmt.Errorf("deploy: systemd: line %q is not Key=value", line)
		}
		var n int
		var marks string
		var err error
		switch key {
		case "ExecStart", "ExecReload", "Environment":
			n, marks, err = systemdWords(value, key != "Environment")
		default:
			n = len(systemdFields(value))
			for i := 0; i < len(value); i++ {
				switch c := value[i]; {
				case c == '%' && i+1 < len(value) && value[i+1] == '%':
					i++
				case c == '%' || c == '"' || c == '\'':
					marks += string(c)
				}
			}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, key+"/"+strconv.Itoa(n)+marks)
	}
	return out, nil
}

// systemdSpace is systemd's WHITESPACE, where it trims a unit's lines and splits their
// values: ASCII only, so a U+0085 or U+00A0 in a value is part of its word (systemd-analyze
// verify reads "After=a\u0085b.service" as the one unit "a\u0085b.service").
const systemdSpace = " \t\n\r"

// systemdFields splits s into words as systemd splits a setting's value.
func systemdFields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(systemdSpace, r) })
}

func systemdWords(v string, dollar bool) (int, string, error) {
	n, marks := 0, ""
	for i := 0; i < len(v); {
		for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
			i++
		}
		if i >= len(v) {
			break
		}
		n++
		var quote byte
		for ; i < len(v); i++ {
			c := v[i]
			if quote == 0 && (c == ' ' || c == '\t') {
				break
			}
			switch {
			case c == '\\' && i+1 < len(v):
				i++
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
			case c == quote:
				quote = 0
			case c == '%' && i+1 < len(v) && v[i+1] == '%', dollar && c == '$' && i+1 < len(v) && v[i+1] == '$':
				i++
			case c == '%' || dollar && c == '$':
				marks += string(c)
			}
		}
		if quote != 0 {
			return 0, "", fmt.Errorf("deploy: systemd: unterminated quote in %q", v)
		}
	}
	return n, marks, nil
}

// caddyLines follows the Caddyfile lexer: tokens split at whitespace; a '#' that starts a
// token comments out the rest of the line; a '"' that starts a token quotes up to the next
// unescaped '"' (a backslash escapes the next character, newlines included); a line's
// tokens are one directive, '{' and '}' open and close blocks. Each entry is "NAME/ARGS":
// NAME is the first token ("Q" when quoted, as a site address is), ARGS one letter per
// further token: 'Q' quoted, 'W' a bare word, 'E' a token holding an environment variable
// or placeholder ('{' inside it, or one of "{$"), '{' and '}' themselves.
func caddyLines(text string) ([]string, error) {
	var out []string
	var line []string
	flush := func() {
		if len(line) > 0 {
			out = append(out, line[0]+"/"+strings.Join(line[1:], ""))
			line = nil
		}
	}
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '\n':
			flush()
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case c == '"':
			j := i + 1
			for ; ; j++ {
				if j >= len(text) {
					return nil, fmt.Errorf("deploy: caddyfile: unterminated quoted token")
				}
				if text[j] == '\\' {
					j++
					continue
				}
				if text[j] == '"' {
					break
				}
			}
			kind := "Q"
			if strings.ContainsAny(text[i+1:j], "{}\\\n") {
				kind = "E"
			}
			i = j + 1
			if i < len(text) && strings.IndexByte(" \t\r\n", text[i]) < 0 {
				return nil, fmt.Errorf("deploy: caddyfile: a quoted token runs on into %q", text[i])
			}
			if len(line) == 0 {
				line = append(line, kind)
			} else {
				line = append(line, kind)
			}
		default:
			j := i
			for j < len(text) && strings.IndexByte(" \t\r\n", text[j]) < 0 {
				j++
			}
			w := text[i:j]
			i = j
			switch {
			case len(line) == 0 && strings.Contains(w, "{$"):
				line = append(line, "E")
			case len(line) == 0:
				line = append(line, w)
			case w == "{" || w == "}":
				line = append(line, w)
			case strings.Contains(w, "{$"):
				line = append(line, "E")
			default:
				line = append(line, "W")
			}
		}
	}
	flush()
	return out, nil
}

// haproxyLines follows haproxy.cfg's line parser: one directive a line; words split at
// spaces and tabs; '#' outside quotes comments out the rest of the line; '...' quotes
// everything up to the next '; "..." quotes with backslash escapes and expands
// environment variables ($NAME, ${NAME}); outside quotes a backslash escapes the next
// character. Each entry is "NAME/ARGS", ARGS one letter per further word: 'Q' for a word
// made only of one single-quoted string, 'E' for one holding '$' outside single quotes,
// '%' (a sample expression in log-format arguments) or a backslash, 'W' for any other.
func haproxyLines(text string) ([]string, error) {
	var out []string
	for n, line := range strings.Split(text, "\n") {
		var words []string
		for i := 0; i < len(line); {
			c := line[i]
			if c == ' ' || c == '\t' || c == '\r' {
				i++
				continue
			}
			if c == '#' {
				break
			}
			kind, single := "W", c == '\''
			for i < len(line) && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '#' {
				switch line[i] {
				case '\'':
					j := strings.IndexByte(line[i+1:], '\'')
					if j < 0 {
						return nil, fmt.Errorf("deploy: haproxy: line %d: unterminated '", n+1)
					}
					if strings.IndexByte(line[i+1:i+1+j], '%') >= 0 {
						kind = "E"
					}
					i += j + 2
				case '"':
					j := i + 1
					for ; j < len(line) && line[j] != '"'; j++ {
						if line[j] == '\\' {
							j++
						}
					}
					if j >= len(line) {
						return nil, fmt.Errorf("deploy: haproxy: line %d: unterminated \"", n+1)
					}
					single = false
					if strings.ContainsAny(line[i+1:j], "$%\\") {
						kind = "E"
					}
					i = j + 1
				case '\\', '$', '%':
					kind, single = "E", false
					i += 2
				default:
					single = false
					i++
				}
			}
			if kind == "W" && single {
				kind = "Q"
			}
			if len(words) == 0 && kind == "W" {
				words = append(words, line[strings.LastIndexAny(line[:i], " \t")+1:i])
				continue
			}
			words = append(words, kind)
		}
		if len(words) > 0 {
			out = append(out, words[0]+"/"+strings.Join(words[1:], ""))
		}
	}
	return out, nil
}

// h2oKeys follows the block YAML that h2o.conf is written in (h2o reads it with libyaml):
// one "KEY: VALUE" or "KEY:" a line, nested by indentation (spaces only); '#' at a line's
// start or after a space comments out the rest; line breaks are \n, \r, NEL, U+2028 and
// U+2029. Each entry is "PATH/KIND": PATH is the keys from the top down to this one joined
// by '>', a quoted key written "Q" (a host or a URL path: YAML reads 'fastcgi.spawn' and
// fastcgi.spawn alike, so a quoted key is never taken for a directive) and a key that is
// not a plain word "E"; KIND is "" for a key that opens a block, 'Q' for a single-quoted
// value, 'W' for a plain one, and 'E' for anything YAML gives a meaning beyond text: a
// double-quoted value (escapes), a flow collection, a tag (h2o's !file includes a file), an
// anchor or alias, a block scalar, a plain value holding ": " or " #". A line that is not
// "KEY: VALUE" is the entry "?/E".
func h2oKeys(text string) ([]string, error) {
	type level struct {
		indent int
		key    string
	}
	var stack []level
	var out []string
	lines := strings.FieldsFunc(text, func(r rune) bool {
		return r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029
	})
	for _, line := range lines {
		rest := strings.TrimLeft(line, " ")
		indent := len(line) - len(rest)
		if rest == "" || rest[0] == '#' {
			continue
		}
		key, value, ok := h2oSplit(rest)
		if !ok {
			out = append(out, "?/E")
			continue
		}
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		path := make([]string, 0, len(stack)+1)
		for _, l := range stack {
			path = append(path, l.key)
		}
		path = append(path, key)
		stack = append(stack, level{indent, key})
		out = append(out, strings.Join(path, ">")+"/"+value)
	}
	return out, nil
}

// h2oSplit reads one "KEY: VALUE" line (without its indentation) into the key as h2oKeys
// names it and the value's kind.
func h2oSplit(s string) (key, kind string, ok bool) {
	var rest string
	switch {
	case s[0] == '\'':
		q, n, closed := yamlSingleQuoted(s)
		if !closed || !strings.HasPrefix(s[n:], ":") {
			return "", "", false
		}
		key, rest = "Q", s[n+1:]
		if q == "" {
			key = "E"
		}
	case strings.IndexByte(yamlIndicators, s[0]) >= 0:
		return "", "", false
	default:
		i := strings.Index(s, ": ")
		if i < 0 {
			if !strings.HasSuffix(s, ":") {
				return "", "", false
			}
			i = len(s) - 1
		}
		key, rest = s[:i], s[i+1:]
		if strings.ContainsAny(key, " \t#") || strings.IndexByte(key, '\'') >= 0 || strings.IndexByte(key, '"') >= 0 {
			key = "E"
		}
	}
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return "", "", false
	}
	rest = strings.TrimLeft(rest, " \t")
	switch {
	case rest == "" || rest[0] == '#':
		return key, "", true
	case rest[0] == '\'':
		_, n, closed := yamlSingleQuoted(rest)
		if !closed {
			return "", "", false
		}
		if after := strings.TrimLeft(rest[n:], " \t"); after != "" && (after[0] != '#' || len(after) == len(rest[n:])) {
			return key, "E", true
		}
		return key, "Q", true
	case strings.IndexByte(yamlIndicators, rest[0]) >= 0 || strings.Contains(rest, ": ") || strings.HasSuffix(rest, ":") ||
		strings.IndexByte(rest, '\t') >= 0:
		return key, "E", true
	}
	if i := strings.Index(rest, " #"); i >= 0 {
		return key, "E", true
	}
	return key, "W", true
}

// yamlIndicators are the characters that give a YAML scalar's first character a meaning.
const yamlIndicators = "-?:,[]{}#&*!|>'\"%@`\t"

// yamlSingleQuoted reads the single-quoted scalar s starts with ("”" is a quote) and
// returns its text, the length it takes in s, and whether it was closed.
func yamlSingleQuoted(s string) (string, int, bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] == '\'' {
			if i+1 < len(s) && s[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			return b.String(), i + 1, true
		}
		b.WriteByte(s[i])
	}
	return "", len(s), false
}
