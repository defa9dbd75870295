package deploy

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Directive readers for the container targets: the Dockerfile, its ignore file and the
// Kubernetes manifests, each read back as its tool reads it (see directives.go).

var (
	syntaxDockerfile = &syntax{name: "dockerfile", read: dockerfileInstructions,
		known: []string{"FROM", "WORKDIR", "ENV", "COPY", "RUN", "USER", "EXPOSE", "STOPSIGNAL", "ENTRYPOINT", "CMD"}}
	// The ignore file's patterns are all data: Check lists nothing.
	syntaxDockerignore = &syntax{name: "dockerignore", read: dockerignorePatterns}
	syntaxYAML         = &syntax{name: "yaml", read: yamlEntries,
		known: []string{"---", "-", "item", "apiVersion", "kind", "metadata", "name", "labels", "app.kubernetes.io~name",
			"data", "site.conf", "spec", "replicas", "selector", "matchLabels", "strategy", "type", "rollingUpdate",
			"maxUnavailable", "maxSurge", "template", "terminationGracePeriodSeconds", "automountServiceAccountToken",
			"securityContext", "runAsNonRoot", "runAsUser", "runAsGroup", "supplementalGroups", "fsGroup", "seccompProfile",
			"containers", "image", "imagePullPolicy", "args", "env", "value", "valueFrom", "secretKeyRef", "key", "ports",
			"containerPort", "readinessProbe", "livenessProbe", "httpGet", "path", "port", "tcpSocket", "periodSeconds",
			"failureThreshold", "lifecycle", "preStop", "sleep", "seconds", "exec", "command", "resources", "requests",
			"limits", "cpu", "memory", "allowPrivilegeEscalation", "readOnlyRootFilesystem", "capabilities", "drop",
			"volumeMounts", "mountPath", "readOnly", "volumes", "emptyDir", "configMap", "targetPort"}}
)

// dockerfileInstructions follows the Dockerfile reader: a line whose first non-blank
// character is '#' is a comment (parser directives are only read before anything else, and
// appgen's header starts with a comment that is none); a line ending in '\' continues on the
// next; the first word is the instruction, in any case. Each entry is "INSTRUCTION/ARGS":
// for an exec form (a JSON array) "J" and the element count; for ENV the count of
// assignments; for other instructions the count of words (FROM's image and stage name kept
// as they are, flags such as --from=build too); each followed by a "$" for every
// variable expansion the reader would make.
func dockerfileInstructions(text string) ([]string, error) {
	var out []string
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" || line[0] == '#' {
			continue
		}
		for strings.HasSuffix(line, `\`) && i+1 < len(lines) {
			i++
			next := strings.TrimSpace(lines[i])
			if next != "" && next[0] == '#' {
				continue
			}
			line = strings.TrimSuffix(line, `\`) + " " + next
		}
		word, rest, _ := strings.Cut(line, " ")
		name := strings.ToUpper(word)
		rest = strings.TrimSpace(rest)
		var args string
		switch {
		case (name == "CMD" || name == "ENTRYPOINT" || name == "RUN" || name == "SHELL") && strings.HasPrefix(rest, "["):
			var elems []string
			if err := json.Unmarshal([]byte(rest), &elems); err != nil {
				return nil, fmt.Errorf("deploy: dockerfile: %s: exec form is not a JSON array of strings: %v", name, err)
			}
			args = "J" + strconv.Itoa(len(elems))
		case name == "ENV":
			n, marks, err := dockerAssignments(rest)
			if err != nil {
				return nil, err
			}
			args = strconv.Itoa(n) + marks
		default:
			words, marks, err := dockerWords(rest)
			if err != nil {
				return nil, err
			}
			args = strconv.Itoa(len(words)) + marks
			if name == "FROM" {
				args = strings.ReplaceAll(strings.Join(words, " "), "/", "~")
			}
			for _, w := range words {
				if strings.HasPrefix(w, "--") {
					args += " " + w
				}
			}
		}
		out = append(out, name+"/"+args)
	}
	return out, nil
}

// dockerWords splits an instruction's arguments as the reader does: at blanks, with '"'
// and "'" quoting and '\' escaping, marking "$" for each expansion ('$' outside single
// quotes, not escaped).
func dockerWords(s string) ([]string, string, error) {
	var words []string
	var marks string
	var w strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == 0 && (c == ' ' || c == '\t'):
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
			continue
		case c == '\\' && quote != '\'' && i+1 < len(s):
			i++
			w.WriteByte(s[i])
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case c == quote:
			quote = 0
		case c == '$' && quote != '\'':
			marks += "$"
			w.WriteByte(c)
		default:
			w.WriteByte(c)
		}
		in = true
	}
	if quote != 0 {
		return nil, "", fmt.Errorf("deploy: dockerfile: unterminated quote in %q", s)
	}
	if in {
		words = append(words, w.String())
	}
	return words, marks, nil
}

// dockerAssignments counts ENV's KEY=value assignments (the legacy "ENV KEY value" form
// counts as one).
func dockerAssignments(s string) (int, string, error) {
	words, marks, err := dockerWords(s)
	if err != nil {
		return 0, "", err
	}
	for _, w := range words {
		if !strings.Contains(w, "=") {
			return 1, marks + "L", nil
		}
	}
	return len(words), marks, nil
}

// dockerignorePatterns reads a .dockerignore: '#' lines are comments, every other non-blank
// line is a pattern. Each entry is "P" ("N" for a '!' exception) with one mark per wildcard
// or escape ('*', '?', '[', '\').
func dockerignorePatterns(text string) ([]string, error) {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		kind := "P"
		if line[0] == '!' {
			kind = "N"
		}
		for _, c := range line {
			if strings.ContainsRune(`*?[\`, c) {
				kind += string(c)
			}
		}
		out = append(out, kind)
	}
	return out, nil
}

// yamlEntries reads the block-style YAML the kubernetes target writes, refusing everything
// else: tabs in indentation, anchors, aliases, tags, flow collections other than {} and [],
// single-quoted and folded scalars. Each entry is "KEY/KIND" ('/' in a key written '~'):
// KIND is "" for a nested collection, "Q" for a double-quoted string, "|" for a literal
// block, {} or [], or the plain scalar itself (which only the template writes: every value
// from an input is quoted); "-/" starts a list item and "---/" a document. A literal block
// (the nginx site in the ConfigMap) is read as nginx reads it and its directives follow,
// each prefixed "nginx.".
func yamlEntries(text string) ([]string, error) {
	var out []string
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		trimmed := strings.TrimLeft(l, " ")
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		if trimmed[0] == '\t' {
			return nil, fmt.Errorf("deploy: yaml: line %d: tab in indentation", i+1)
		}
		indent := len(l) - len(trimmed)
		if trimmed == "---" && indent == 0 {
			out = append(out, "---/")
			continue
		}
		rest := trimmed
		for strings.HasPrefix(rest, "- ") {
			out = append(out, "-/")
			rest = rest[2:]
			indent += 2
		}
		key, val, isKey := yamlKey(rest)
		if !isKey {
			kind, err := yamlValueKind(rest)
			if err != nil {
				return nil, fmt.Errorf("deploy: yaml: line %d: %v", i+1, err)
			}
			out = append(out, "item/"+kind)
			continue
		}
		switch val {
		case "":
			out = append(out, key+"/")
		case "|":
			var block []string
			for i+1 < len(lines) {
				next := lines[i+1]
				if strings.TrimSpace(next) != "" && len(next)-len(strings.TrimLeft(next, " ")) <= indent {
					break
				}
				block = append(block, next)
				i++
			}
			out = append(out, key+"/|")
			ds, err := nginxDirectives(strings.Join(block, "\n"))
			if err != nil {
				return nil, fmt.Errorf("deploy: yaml: the literal block %s: %v", key, err)
			}
			for _, d := range ds {
				out = append(out, "nginx."+d)
			}
		default:
			kind, err := yamlValueKind(val)
			if err != nil {
				return nil, fmt.Errorf("deploy: yaml: line %d: %s: %v", i+1, key, err)
			}
			out = append(out, key+"/"+kind)
		}
	}
	return out, nil
}

// yamlKey splits "key: value" or "key:" with a plain key; ok is false for a scalar.
func yamlKey(s string) (key, val string, ok bool) {
	k, v, found := strings.Cut(s, ":")
	if !found || k == "" || !only(k, "._-/") || (v != "" && v[0] != ' ') {
		return "", "", false
	}
	return strings.ReplaceAll(k, "/", "~"), strings.TrimSpace(v), true
}

// yamlValueKind classifies one scalar value, refusing what appgen never writes.
func yamlValueKind(v string) (string, error) {
	switch {
	case v == "{}" || v == "[]":
		return v, nil
	case v[0] == '"':
		var s string
		if err := json.Unmarshal([]byte(v), &s); err != nil {
			return "", fmt.Errorf("a double-quoted string that is not one JSON string: %s", v)
		}
		return "Q", nil
	case only(v, "._-/") && v[0] != '.':
		return strings.ReplaceAll(v, "/", "~"), nil
	}
	return "", fmt.Errorf("value %q is not a quoted string or a plain word", v)
}
