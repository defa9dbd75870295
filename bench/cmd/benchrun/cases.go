package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/appgen/appgen/deploy"
	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// A throughput case: one web server in front of one backend.
type benchCase struct {
	// Name identifies the case in the results ("nginx fcgi keep-conn: appgen").
	Name string
	// Server is the web server in front.
	Server webserver.Program
	// Backend is the -proto of bench/cmd/backend, or "canned" for bench/cmd/canned.
	Backend string
	// Site returns the web server's site configuration for the instance directory dir and
	// the given ports.
	Site func(dir string, webPort, backendPort int) (string, error)
	// Peers are the names of the cases this one is compared with.
	Peers []string
}

// ajpSecret is the shared secret between Apache and the AJP backend, as a deployment would
// set one (runfcgi insists on it off loopback).
const ajpSecret = "bench-secret"

// rendered is the site `appgen config SERVER` writes for a backend on 127.0.0.1:backendPort
// listening on 127.0.0.1:webPort, so the benchmarks measure what users run. The project
// directory is the instance's: its document root and static directory do not exist, so every
// request goes to the backend. tuning is what a benchmark adds around the site at the level
// the harness includes it (nginx: http{}; Apache: the main server), never inside it.
func rendered(target, protocol, tuning string) func(string, int, int) (string, error) {
	return func(dir string, web, backend int) (string, error) {
		o := deploy.Options{
			Target: target, Protocol: protocol, Dir: dir, Listen: "127.0.0.1:" + strconv.Itoa(web),
			Backends: []deploy.Backend{deploy.TCP("127.0.0.1", backend)},
		}
		if protocol == "ajp" {
			o.Secret = ajpSecret
		}
		text, err := deploy.Render(o)
		return tuning + string(text), err
	}
}

// nginxTuning turns nginx's access log off (the harness's main configuration writes one),
// as for every server measured here: the benchmark is about the path to the backend.
const nginxTuning = "access_log off;\n"

// nginxSite is `appgen config nginx` with protocol: for FastCGI, fastcgi_keep_conn on and
// kept-alive upstream connections, as users get them.
func nginxSite(protocol string) func(string, int, int) (string, error) {
	return rendered("nginx", protocol, nginxTuning)
}

// nginxNoKeepConn is nginxSite("fcgi") without fastcgi_keep_conn: a FastCGI connection per
// request, what nginx does unless told otherwise (Debian's snippets and most guides). appgen
// never writes it; it is measured to show what keeping the connection is worth
// (docs/performance.md), so the one line is taken out of the rendered site, and a site
// without it is an error rather than a silent second keep-conn case.
func nginxNoKeepConn(dir string, web, backend int) (string, error) {
	site, err := nginxSite("fcgi")(dir, web, backend)
	const line = "\n        fastcgi_keep_conn on;"
	if err == nil && !strings.Contains(site, line) {
		err = fmt.Errorf("benchrun: the rendered nginx site has no %q line to take out", strings.TrimSpace(line))
	}
	return strings.Replace(site, line, "", 1), err
}

// apacheTuning lets Apache's one process (webserver starts it with -X) keep every wrk
// connection: with mpm_event's default 25 threads it closes kept-alive connections whenever
// all threads are busy, which wrk counts as read errors, and MaxKeepAliveRequests 100 closes
// the rest regularly.
const apacheTuning = "ThreadsPerChild 64\nMaxRequestWorkers 64\nMaxKeepAliveRequests 0\n"

// apacheSite is `appgen config apache` with protocol.
func apacheSite(protocol string) func(string, int, int) (string, error) {
	return rendered("apache", protocol, apacheTuning)
}

// cases are every throughput case, in the order they run and are reported.
var cases = []benchCase{
	{Name: "nginx fcgi keep-conn: appgen", Server: webserver.Nginx, Backend: "fcgi", Site: nginxSite("fcgi"),
		Peers: []string{"nginx fcgi keep-conn: canned", "nginx fcgi keep-conn: net/http/fcgi", "nginx http: net/http"}},
	{Name: "nginx fcgi keep-conn: net/http/fcgi", Server: webserver.Nginx, Backend: "gofcgi", Site: nginxSite("fcgi")},
	{Name: "nginx fcgi keep-conn: canned", Server: webserver.Nginx, Backend: "canned", Site: nginxSite("fcgi")},
	{Name: "nginx fcgi: appgen", Server: webserver.Nginx, Backend: "fcgi", Site: nginxNoKeepConn,
		Peers: []string{"nginx fcgi: canned", "nginx fcgi: net/http/fcgi", "nginx http: net/http", "nginx fcgi keep-conn: appgen"}},
	{Name: "nginx fcgi: net/http/fcgi", Server: webserver.Nginx, Backend: "gofcgi", Site: nginxNoKeepConn},
	{Name: "nginx fcgi: canned", Server: webserver.Nginx, Backend: "canned", Site: nginxNoKeepConn},
	{Name: "nginx scgi: appgen", Server: webserver.Nginx, Backend: "scgi", Site: nginxSite("scgi"),
		Peers: []string{"nginx http: net/http", "nginx fcgi: appgen"}},
	{Name: "nginx http: net/http", Server: webserver.Nginx, Backend: "http", Site: nginxSite("http")},
	{Name: "apache fcgi: appgen", Server: webserver.Apache, Backend: "fcgi", Site: apacheSite("fcgi"),
		Peers: []string{"apache fcgi: net/http/fcgi", "apache http: net/http"}},
	{Name: "apache fcgi: net/http/fcgi", Server: webserver.Apache, Backend: "gofcgi", Site: apacheSite("fcgi")},
	{Name: "apache ajp: appgen", Server: webserver.Apache, Backend: "ajp", Site: apacheSite("ajp"),
		Peers: []string{"apache http: net/http", "apache fcgi: appgen"}},
	{Name: "apache scgi: appgen", Server: webserver.Apache, Backend: "scgi", Site: apacheSite("scgi"),
		Peers: []string{"apache http: net/http"}},
	{Name: "apache http: net/http", Server: webserver.Apache, Backend: "http", Site: apacheSite("http")},

	// Issue 11: runfcgi's process models with their defaults, on the same handler as above
	// and on the generated project's own page.
	{Name: "nginx fcgi keep-conn: runfcgi threaded", Server: webserver.Nginx, Backend: "runfcgi threaded", Site: nginxSite("fcgi"),
		Peers: []string{"nginx fcgi keep-conn: canned", "nginx http: net/http"}},
	{Name: "nginx fcgi keep-conn: runfcgi prefork", Server: webserver.Nginx, Backend: "runfcgi prefork", Site: nginxSite("fcgi"),
		Peers: []string{"nginx fcgi keep-conn: canned", "nginx http: net/http", "nginx fcgi keep-conn: runfcgi threaded"}},
	{Name: "project: nginx http: runserver", Server: webserver.Nginx, Backend: "project runserver", Site: nginxSite("http")},
	{Name: "project: nginx fcgi keep-conn: runfcgi threaded", Server: webserver.Nginx, Backend: "project threaded", Site: nginxSite("fcgi"),
		Peers: []string{"project: nginx http: runserver"}},
	{Name: "project: nginx fcgi keep-conn: runfcgi prefork", Server: webserver.Nginx, Backend: "project prefork", Site: nginxSite("fcgi"),
		Peers: []string{"project: nginx http: runserver", "project: nginx fcgi keep-conn: runfcgi threaded"}},
	{Name: "project: nginx fcgi keep-conn: runfcgi default", Server: webserver.Nginx, Backend: "project default", Site: nginxSite("fcgi"),
		Peers: []string{"project: nginx http: runserver", "project: nginx fcgi keep-conn: runfcgi threaded"}},
}
