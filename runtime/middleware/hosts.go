package middleware

import (
	"log"
	"net/http"
	"strings"
)

// AllowedHosts answers 400 Bad Request, without calling the handler, to a request whose Host is
// not in hosts, as Django does with ALLOWED_HOSTS. This stops Host header poisoning: links and
// redirects built from r.Host then only ever name the site's own hosts.
//
// Patterns follow Django: "www.example.com" matches that host exactly; ".example.com" matches
// example.com and every subdomain of it; "*" matches any host. Matching ignores case, the port
// and one trailing dot. IPv6 hosts are written in brackets ("[::1]"). An empty hosts list
// rejects every request, as Django does when DEBUG is off; a project's development profile
// lists the loopback names instead. A request with no Host at all (HTTP/1.0) is rejected too.
// Each rejection is logged to errorLog, naming the Host; a nil errorLog means log.Default().
func AllowedHosts(hosts []string, errorLog *log.Logger) Middleware {
	if errorLog == nil {
		errorLog = log.Default()
	}
	patterns := make([]string, len(hosts))
	for i, h := range hosts {
		patterns[i] = lowerASCII(h)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			domain, _, ok := splitHost(r.Host)
			if !ok || !hostAllowed(domain, patterns) {
				errorLog.Printf("middleware: invalid Host header %q from %s: add it to AllowedHosts if the site should answer it", r.Host, r.RemoteAddr)
				http.Error(w, "Bad Request (400)", http.StatusBadRequest)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// splitHost splits a Host header into its lower-cased domain (without one trailing dot) and port,
// accepting what Django's host_validation_re accepts:
// ^([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9\.:]+\])(:[0-9]+)?$ after lower-casing. Non-ASCII is rejected
// outright rather than lower-cased by Unicode rules (which would map the Kelvin sign to "k").
func splitHost(host string) (domain, port string, ok bool) {
	host = lowerASCII(host)
	rest := ""
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 || !validIPv6Literal(host[1:end]) {
			return "", "", false
		}
		domain, rest = host[:end+1], host[end+1:]
	} else {
		i := strings.IndexByte(host, ':')
		if i < 0 {
			i = len(host)
		}
		domain, rest = host[:i], host[i:]
		if domain == "" || !allIn(domain, "abcdefghijklmnopqrstuvwxyz0123456789.-") {
			return "", "", false
		}
		domain = strings.TrimSuffix(domain, ".")
	}
	if rest != "" {
		port = rest[1:]
		if rest[0] != ':' || port == "" || !allIn(port, "0123456789") {
			return "", "", false
		}
	}
	return domain, port, domain != ""
}

// validIPv6Literal is Django's loose [a-f0-9]*:[a-f0-9\.:]+ (the inside of the brackets).
func validIPv6Literal(s string) bool {
	i := strings.IndexByte(s, ':')
	return i >= 0 && allIn(s[:i], "0123456789abcdef") && len(s) > i+1 && allIn(s[i+1:], "0123456789abcdef.:")
}

// hostAllowed is Django's validate_host for a domain that splitHost accepted.
func hostAllowed(domain string, patterns []string) bool {
	for _, p := range patterns {
		switch {
		case p == "*", p == domain:
			return true
		case strings.HasPrefix(p, ".") && (strings.HasSuffix(domain, p) || domain == p[1:]):
			return true
		}
	}
	return false
}

func allIn(s, set string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return true
}

// lowerASCII lower-cases ASCII letters and leaves every other byte alone.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
