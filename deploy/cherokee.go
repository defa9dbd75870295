package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/appgen/appgen/runtime/serverconf"
)

// The Cherokee target: cherokee.conf key paths, and their structural check.
var cherokeeTarget = &target{name: "cherokee", summary: "Cherokee cherokee.conf: a virtual server with a static rule and a balanced default rule",
	protocols: []string{"fcgi", "scgi"}, usesBackends: true, spawn: true, template: "cherokee.conf.tmpl", program: "cherokee",
	syntax: syntaxCherokee, check: checkCherokee,
	fields: fieldList(baseFields, backendFields, webFields, []string{"Spawn"})}

// checkCherokee runs `cherokee -t -C` on the output as it is, after the key check (which
// refuses any key appgen never writes, such as include, before Cherokee reads the file).
// Cherokee is found as serverconf.LookPath finds it: $APPGEN_CHEROKEE, then PATH and the
// sbin directories, then /opt/cherokee/sbin. Only where none holds it does the key check
// stand alone, and the note says so.
//
// With --spawn, cherokee -t refuses a source whose interpreter program does not exist, and
// stops there, before the virtual servers. Where the project's binary is not installed yet,
// the check stands Cherokee's own path in for it (a file that exists; -t never runs it), so
// that the rest is still checked, and a note says the binary is missing.
func checkCherokee(ctx context.Context, r *resolved, text []byte, dir string) ([]string, error) {
	if err := ValidateCherokee(text); err != nil {
		return nil, err
	}
	exe, err := serverconf.LookPath(string(serverconf.Cherokee))
	if err != nil {
		if os.Getenv(serverconf.CherokeeEnv) != "" {
			return nil, fmt.Errorf("deploy: %w: %v", ErrCheckUnavailable, err)
		}
		return []string{"Cherokee is not installed here (not in $" + serverconf.CherokeeEnv + ", PATH or /opt/cherokee/sbin): only the key structure was checked, against the keys and values Cherokee 1.2 reads, not by cherokee -t"}, nil
	}
	var notes []string
	if r.Spawn && !isFile(r.Binary) {
		notes = append(notes, "the configuration is valid, but "+r.Binary+" is not installed here yet: Cherokee will not start until it is")
		text = []byte(strings.ReplaceAll(string(text), "!interpreter = "+r.Binary+" ", "!interpreter = "+exe+" "))
	}
	if err := checkCommand(ctx, exe, "Cherokee", filepath.Join(dir, "cherokee.conf"), text, "-t", "-C"); err != nil {
		return nil, err
	}
	return notes, nil
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}

// cherokeeKey describes one key path of cherokee.conf that appgen writes, from Cherokee
// 1.2's documentation (config.html and the handler_fcgi, handler_scgi, handler_file,
// balancer_round_robin and rule pages). "N" stands for a number.
type cherokeeKey struct {
	path   string
	values []string // allowed values; nil means any non-empty value
}

var cherokeeKeys = []cherokeeKey{
	{"config!version", nil},
	{"server!bind!N!port", nil},
	{"server!bind!N!interface", nil},
	{"vserver!N!nick", nil},
	{"vserver!N!document_root", nil},
	{"vserver!N!match", []string{"wildcard", "rehost", "target_ip"}},
	{"vserver!N!match!domain!N", nil},
	{"vserver!N!rule!N!match", []string{"default", "directory", "exists", "extensions", "request", "header", "fullpath"}},
	{"vserver!N!rule!N!match!directory", nil},
	{"vserver!N!rule!N!match!final", []string{"0", "1"}},
	{"vserver!N!rule!N!match!match_any", []string{"0", "1"}},
	{"vserver!N!rule!N!document_root", nil},
	{"vserver!N!rule!N!handler", []string{"file", "common", "fcgi", "scgi", "proxy", "redir", "custom_error"}},
	{"vserver!N!rule!N!handler!error", []string{"403", "404"}},
	{"vserver!N!rule!N!handler!check_file", []string{"0", "1"}},
	{"vserver!N!rule!N!handler!error_handler", []string{"0", "1"}},
	{"vserver!N!rule!N!handler!pass_req_headers", []string{"0", "1"}},
	{"vserver!N!rule!N!handler!balancer", []string{"round_robin", "ip_hash"}},
	{"vserver!N!rule!N!handler!balancer!source!N", nil},
	{"source!N!nick", nil},
	{"source!N!type", []string{"host", "interpreter"}},
	{"source!N!host", nil},
	{"source!N!interpreter", nil},
	{"source!N!env!*", nil},
}

// ValidateCherokee checks a cherokee.conf fragment against Cherokee's documented format,
// since no Cherokee is packaged to run it: every line is "key = value" with a known key
// path and an allowed value; every rule has a match and a handler; a balancer names sources
// that exist; every source has a nick, a type and a host, and an interpreter when its type
// says so; each virtual server has exactly one default rule; and the lowest-numbered
// virtual server is nicknamed "default", without which Cherokee refuses to start.
func ValidateCherokee(text []byte) error {
	values := map[string]string{}
	var order []string
	for i, line := range strings.Split(string(text), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, " = ")
		if !ok || strings.TrimSpace(value) == "" {
			return fmt.Errorf("deploy: cherokee line %d %q: want \"key!path = value\"", i+1, line)
		}
		if err := matchCherokeeKey(key, value); err != nil {
			return fmt.Errorf("deploy: cherokee line %d: %w", i+1, err)
		}
		if _, dup := values[key]; dup {
			return fmt.Errorf("deploy: cherokee line %d: key %s set twice", i+1, key)
		}
		values[key] = value
		order = append(order, key)
	}
	// Gather rules and sources.
	rules := map[string]bool{}   // vserver!N!rule!M
	sources := map[string]bool{} // source!N
	vservers := map[string]int{} // vserver!N -> default rules
	for _, key := range order {
		parts := strings.Split(key, "!")
		if parts[0] == "vserver" {
			vs := strings.Join(parts[:2], "!")
			if _, ok := vservers[vs]; !ok {
				vservers[vs] = 0
			}
			if len(parts) >= 4 && parts[2] == "rule" {
				rules[strings.Join(parts[:4], "!")] = true
			}
		}
		if parts[0] == "source" {
			sources[strings.Join(parts[:2], "!")] = true
		}
	}
	for rule := range rules {
		match, ok := values[rule+"!match"]
		if !ok {
			return fmt.Errorf("deploy: cherokee %s has no match", rule)
		}
		if _, ok := values[rule+"!handler"]; !ok {
			return fmt.Errorf("deploy: cherokee %s has no handler", rule)
		}
		if match == "directory" && values[rule+"!match!directory"] == "" {
			return fmt.Errorf("deploy: cherokee %s matches a directory but names none", rule)
		}
		if match == "default" {
			vservers[strings.Join(strings.Split(rule, "!")[:2], "!")]++
		}
		h := values[rule+"!handler"]
		if h == "custom_error" && values[rule+"!handler!error"] == "" {
			return fmt.Errorf("deploy: cherokee %s: handler custom_error needs handler!error", rule)
		}
		if h == "fcgi" || h == "scgi" {
			if values[rule+"!handler!balancer"] == "" {
				return fmt.Errorf("deploy: cherokee %s: handler %s needs a balancer", rule, h)
			}
			n := 0
			for _, key := range order {
				if strings.HasPrefix(key, rule+"!handler!balancer!source!") {
					n++
					if !sources["source!"+values[key]] {
						return fmt.Errorf("deploy: cherokee %s = %s names a source that is not defined", key, values[key])
					}
				}
			}
			if n == 0 {
				return fmt.Errorf("deploy: cherokee %s: balancer has no source", rule)
			}
		}
	}
	for vs, defaults := range vservers {
		if values[vs+"!nick"] == "" || values[vs+"!document_root"] == "" {
			return fmt.Errorf("deploy: cherokee %s needs a nick and a document_root", vs)
		}
		if defaults != 1 {
			return fmt.Errorf("deploy: cherokee %s has %d default rules, want exactly 1", vs, defaults)
		}
	}
	lowest, lowestN := "", 0
	for vs := range vservers {
		n, _ := strconv.Atoi(strings.TrimPrefix(vs, "vserver!"))
		if lowest == "" || n < lowestN {
			lowest, lowestN = vs, n
		}
	}
	if lowest != "" && values[lowest+"!nick"] != "default" {
		return fmt.Errorf("deploy: cherokee %s is the lowest-numbered virtual server, so its nick must be \"default\" (Cherokee refuses to start otherwise), not %q", lowest, values[lowest+"!nick"])
	}
	for src := range sources {
		for _, k := range []string{"nick", "type", "host"} {
			if values[src+"!"+k] == "" {
				return fmt.Errorf("deploy: cherokee %s has no %s", src, k)
			}
		}
		if values[src+"!type"] == "interpreter" && values[src+"!interpreter"] == "" {
			return fmt.Errorf("deploy: cherokee %s is an interpreter source without an interpreter command", src)
		}
	}
	return nil
}

func matchCherokeeKey(key, value string) error {
	parts := strings.Split(key, "!")
	for _, k := range cherokeeKeys {
		pattern := strings.Split(k.path, "!")
		if !keyMatches(pattern, parts) {
			continue
		}
		if k.values != nil && !containsString(k.values, value) {
			return fmt.Errorf("%s = %s: want one of %s", key, value, strings.Join(k.values, ", "))
		}
		return nil
	}
	return fmt.Errorf("unknown key path %s", key)
}

func keyMatches(pattern, parts []string) bool {
	for i, p := range pattern {
		if p == "*" {
			return i == len(parts)-1 && parts[i] != ""
		}
		if i >= len(parts) {
			return false
		}
		if p == "N" {
			if n, err := strconv.Atoi(parts[i]); err != nil || n < 1 {
				return false
			}
			continue
		}
		if p != parts[i] {
			return false
		}
	}
	return len(pattern) == len(parts)
}

// VServer is the Cherokee virtual server number: 1 (the default one) when no server names
// are given, 10 otherwise, leaving vserver!1 to the default.
func (r *resolved) VServer() int {
	if len(r.ServerNames) > 0 {
		return 10
	}
	return 1
}

// ListenHost is the host part of Listen, "" when Listen is a port.
func (r *resolved) ListenHost() string {
	if i := strings.LastIndexByte(r.Listen, ':'); i >= 0 {
		return strings.Trim(r.Listen[:i], "[]")
	}
	return ""
}
