package manage

import (
	"fmt"
	"strings"
)

// Deploy is what `check --deploy` and runfcgi judge a public site by, copied from the
// project's settings: Django's deployment checklist (manage.py check --deploy).
type Deploy struct {
	// Debug is the settings' Debug: development help that shows internals (technical 404 and
	// 500 pages). Default false.
	Debug bool
	// SecretKey is the key the site signs with. Default "": none, which is an error.
	SecretKey string
	// GeneratedSecretKey is the key startproject wrote into the project's source
	// (settings/key.go): fine for development, known to anyone who can read the repository.
	// A public site using it is an error. Default "": not compared.
	GeneratedSecretKey string
	// AllowedHosts are the Host values the site answers (Django's ALLOWED_HOSTS); runserver
	// also checks static files' Host against them. Default nil: no host, an error for a public
	// site.
	AllowedHosts []string
}

// Secret key rules. Django asks for 50 characters of which 5 differ; "abcde" ten times meets
// that and is no secret, so a key here also needs 10 different characters (a random key of
// 50 characters from any alphabet of 16 or more has them, in practice always) and must not
// be a shorter string repeated.
const (
	minSecretKeyLength   = 50
	minSecretKeyDistinct = 10
)

// Level says what a Problem does to runfcgi: an Error stops it from starting a public
// site, a Warning is printed. `check --deploy` fails on either.
type Level int

const (
	Error Level = iota
	Warning
)

func (l Level) String() string {
	if l == Warning {
		return "warning"
	}
	return "error"
}

// Problem is one finding of a deployment check.
type Problem struct {
	Level Level
	// ID is a stable name for the check, as Django's security.W018: "deploy.E001".
	ID  string
	Msg string
}

func (p Problem) String() string { return fmt.Sprintf("%s (%s): %s", p.ID, p.Level, p.Msg) }

// Check returns what is wrong with d for a site the public can reach, errors first. It never
// prints the secret key.
func (d Deploy) Check() []Problem {
	var ps []Problem
	add := func(l Level, id, format string, args ...any) {
		ps = append(ps, Problem{Level: l, ID: id, Msg: fmt.Sprintf(format, args...)})
	}
	if d.Debug {
		add(Error, "deploy.E001", "Debug is on: error pages show the routes, the code and its stack to anyone who can reach the site; run the production settings (APPGEN_SETTINGS=production)")
	}
	switch {
	case d.SecretKey == "":
		add(Error, "deploy.E002", "SecretKey is empty; set APPGEN_SECRET_KEY")
	case d.GeneratedSecretKey != "" && d.SecretKey == d.GeneratedSecretKey:
		add(Error, "deploy.E003", "SecretKey is the key generated into the project's source (settings/key.go), which anyone who can read the repository knows; set APPGEN_SECRET_KEY to a new random key")
	default:
		if why := WeakSecretKey(d.SecretKey); why != "" {
			add(Error, "deploy.E004", "SecretKey is weak: %s; set APPGEN_SECRET_KEY to at least %d random characters", why, minSecretKeyLength)
		}
	}
	if len(d.AllowedHosts) == 0 {
		add(Error, "deploy.E005", "AllowedHosts is empty, so every request gets 400 Bad Request; set APPGEN_ALLOWED_HOSTS to the site's host names (comma-separated)")
	}
	for _, h := range d.AllowedHosts {
		if strings.TrimSpace(h) == "*" {
			add(Warning, "deploy.W001", "AllowedHosts has \"*\": the site answers any Host header, so links and redirects built from it can name another site (Host header poisoning); list the site's host names in APPGEN_ALLOWED_HOSTS")
			break
		}
	}
	// Errors first, so the line that stops runfcgi is read first.
	out := make([]Problem, 0, len(ps))
	for _, l := range []Level{Error, Warning} {
		for _, p := range ps {
			if p.Level == l {
				out = append(out, p)
			}
		}
	}
	return out
}

// WeakSecretKey says why key is too weak to sign with, or "" when it is not: fewer than 50
// characters, fewer than 10 different ones, or a shorter string repeated. The reason never
// quotes the key.
func WeakSecretKey(key string) string {
	n := len([]rune(key))
	distinct := map[rune]bool{}
	for _, r := range key {
		distinct[r] = true
	}
	switch {
	case n < minSecretKeyLength:
		return fmt.Sprintf("%d characters, want at least %d", n, minSecretKeyLength)
	case len(distinct) < minSecretKeyDistinct:
		return fmt.Sprintf("%d different characters, want at least %d", len(distinct), minSecretKeyDistinct)
	}
	if p := period(key); p < len(key) {
		return fmt.Sprintf("it repeats its first %d characters", p)
	}
	return ""
}

// period is the length of the shortest string whose repetition (the last copy possibly cut
// short) is s: len(s) when s repeats nothing. The prefix function of Knuth, Morris and Pratt
// gives it in one pass; only whole repeats of 2 or more count.
func period(s string) int {
	pi := make([]int, len(s))
	for i := 1; i < len(s); i++ {
		k := pi[i-1]
		for k > 0 && s[i] != s[k] {
			k = pi[k-1]
		}
		if s[i] == s[k] {
			k++
		}
		pi[i] = k
	}
	if len(s) == 0 {
		return 0
	}
	p := len(s) - pi[len(s)-1]
	if p*2 > len(s) {
		return len(s)
	}
	return p
}
