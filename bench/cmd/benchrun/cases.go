package main

import (
	"fmt"
	"strings"

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
	// Site returns the web server's site configuration for the given ports.
	Site func(webPort, backendPort int) string
	// Peers are the names of the cases this one is compared with.
	Peers []string
}

// ajpSecret is the shared secret between Apache and the AJP backend, as a deployment would
// set one (runfcgi insists on it off loopback).
const ajpSecret = "bench-secret"

// The nginx sites set every FastCGI/SCGI parameter themselves instead of including Debian's
// fastcgi_params, which sets HTTP_HOST from $host (dropping the port) and SCRIPT_NAME to the
// whole path.
const nginxFastCGIParams = `
        fastcgi_param QUERY_STRING $query_string;
        fastcgi_param REQUEST_METHOD $request_method;
        fastcgi_param CONTENT_TYPE $content_type;
        fastcgi_param CONTENT_LENGTH $content_length;
        fastcgi_param SCRIPT_NAME "";
        fastcgi_param PATH_INFO $uri;
        fastcgi_param REQUEST_URI $request_uri;
        fastcgi_param SERVER_PROTOCOL $server_protocol;
        fastcgi_param GATEWAY_INTERFACE CGI/1.1;
        fastcgi_param REMOTE_ADDR $remote_addr;
        fastcgi_param REMOTE_PORT $remote_port;
        fastcgi_param SERVER_ADDR $server_addr;
        fastcgi_param SERVER_PORT $server_port;
        fastcgi_param SERVER_NAME $server_name;
        fastcgi_param HTTP_HOST $http_host;`

const nginxSCGIParams = `
        scgi_param REQUEST_METHOD $request_method;
        scgi_param REQUEST_URI $request_uri;
        scgi_param QUERY_STRING $query_string;
        scgi_param CONTENT_TYPE $content_type;
        scgi_param SCRIPT_NAME "";
        scgi_param PATH_INFO $uri;
        scgi_param SCGI 1;
        scgi_param SERVER_PROTOCOL $server_protocol;
        scgi_param REMOTE_ADDR $remote_addr;
        scgi_param REMOTE_PORT $remote_port;
        scgi_param SERVER_PORT $server_port;
        scgi_param SERVER_NAME $server_name;
        scgi_param HTTP_HOST $http_host;`

func nginxSite(webPort, backendPort int, keepalive bool, location string) string {
	up := fmt.Sprintf("upstream backend {\n    server 127.0.0.1:%d;\n", backendPort)
	if keepalive {
		up += "    keepalive 32;\n"
	}
	up += "}\n"
	return up + fmt.Sprintf(`server {
    listen 127.0.0.1:%d;
    access_log off;
    location / {%s
    }
}
`, webPort, location)
}

func nginxFastCGI(keepConn bool) func(int, int) string {
	return func(web, backend int) string {
		loc := "\n        fastcgi_pass backend;"
		if keepConn {
			loc += "\n        fastcgi_keep_conn on;"
		}
		return nginxSite(web, backend, keepConn, loc+nginxFastCGIParams)
	}
}

func nginxSCGI(web, backend int) string {
	return nginxSite(web, backend, false, "\n        scgi_pass backend;"+nginxSCGIParams)
}

func nginxHTTP(web, backend int) string {
	return nginxSite(web, backend, true, `
        proxy_pass http://backend;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;`)
}

// apacheTuning lets Apache's one process (webserver starts it with -X) keep every wrk
// connection: with mpm_event's default 25 threads it closes kept-alive connections whenever
// all threads are busy, which wrk counts as read errors, and MaxKeepAliveRequests 100 closes
// the rest regularly.
const apacheTuning = "ThreadsPerChild 64\nMaxRequestWorkers 64\nMaxKeepAliveRequests 0\n"

// apacheSite proxies everything to the backend with scheme; options are ProxyPass key=value
// pairs.
func apacheSite(scheme string, options ...string) func(int, int) string {
	return func(web, backend int) string {
		opts := strings.Join(options, " ")
		return apacheTuning + fmt.Sprintf("ProxyPass \"/\" \"%s://127.0.0.1:%d/\" %s\nProxyPreserveHost On\n", scheme, backend, opts)
	}
}

// cases are every throughput case, in the order they run and are reported.
var cases = []benchCase{
	{Name: "nginx fcgi keep-conn: appgen", Server: webserver.Nginx, Backend: "fcgi", Site: nginxFastCGI(true),
		Peers: []string{"nginx fcgi keep-conn: canned", "nginx fcgi keep-conn: net/http/fcgi", "nginx http: net/http"}},
	{Name: "nginx fcgi keep-conn: net/http/fcgi", Server: webserver.Nginx, Backend: "gofcgi", Site: nginxFastCGI(true)},
	{Name: "nginx fcgi keep-conn: canned", Server: webserver.Nginx, Backend: "canned", Site: nginxFastCGI(true)},
	{Name: "nginx fcgi: appgen", Server: webserver.Nginx, Backend: "fcgi", Site: nginxFastCGI(false),
		Peers: []string{"nginx fcgi: canned", "nginx fcgi: net/http/fcgi", "nginx http: net/http", "nginx fcgi keep-conn: appgen"}},
	{Name: "nginx fcgi: net/http/fcgi", Server: webserver.Nginx, Backend: "gofcgi", Site: nginxFastCGI(false)},
	{Name: "nginx fcgi: canned", Server: webserver.Nginx, Backend: "canned", Site: nginxFastCGI(false)},
	{Name: "nginx scgi: appgen", Server: webserver.Nginx, Backend: "scgi", Site: nginxSCGI,
		Peers: []string{"nginx http: net/http", "nginx fcgi: appgen"}},
	{Name: "nginx http: net/http", Server: webserver.Nginx, Backend: "http", Site: nginxHTTP},
	{Name: "apache fcgi: appgen", Server: webserver.Apache, Backend: "fcgi", Site: apacheSite("fcgi", "enablereuse=on"),
		Peers: []string{"apache fcgi: net/http/fcgi", "apache http: net/http"}},
	{Name: "apache fcgi: net/http/fcgi", Server: webserver.Apache, Backend: "gofcgi", Site: apacheSite("fcgi", "enablereuse=on")},
	{Name: "apache ajp: appgen", Server: webserver.Apache, Backend: "ajp", Site: apacheSite("ajp", "secret="+ajpSecret),
		Peers: []string{"apache http: net/http", "apache fcgi: appgen"}},
	{Name: "apache scgi: appgen", Server: webserver.Apache, Backend: "scgi", Site: apacheSite("scgi"),
		Peers: []string{"apache http: net/http"}},
	{Name: "apache http: net/http", Server: webserver.Apache, Backend: "http", Site: apacheSite("http")},

	// Issue 11: runfcgi's process models with their defaults, on the same handler as above
	// and on the generated project's own page.
	{Name: "nginx fcgi keep-conn: runfcgi threaded", Server: webserver.Nginx, Backend: "runfcgi threaded", Site: nginxFastCGI(true),
		Peers: []string{"nginx fcgi keep-conn: canned", "nginx http: net/http"}},
	{Name: "nginx fcgi keep-conn: runfcgi prefork", Server: webserver.Nginx, Backend: "runfcgi prefork", Site: nginxFastCGI(true),
		Peers: []string{"nginx fcgi keep-conn: canned", "nginx http: net/http", "nginx fcgi keep-conn: runfcgi threaded"}},
	{Name: "project: nginx http: runserver", Server: webserver.Nginx, Backend: "project runserver", Site: nginxHTTP},
	{Name: "project: nginx fcgi keep-conn: runfcgi threaded", Server: webserver.Nginx, Backend: "project threaded", Site: nginxFastCGI(true),
		Peers: []string{"project: nginx http: runserver"}},
	{Name: "project: nginx fcgi keep-conn: runfcgi prefork", Server: webserver.Nginx, Backend: "project prefork", Site: nginxFastCGI(true),
		Peers: []string{"project: nginx http: runserver", "project: nginx fcgi keep-conn: runfcgi threaded"}},
	{Name: "project: nginx fcgi keep-conn: runfcgi default", Server: webserver.Nginx, Backend: "project default", Site: nginxFastCGI(true),
		Peers: []string{"project: nginx http: runserver", "project: nginx fcgi keep-conn: runfcgi threaded"}},
}
