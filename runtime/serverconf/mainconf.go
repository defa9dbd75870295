package serverconf

import (
	"fmt"
	"strings"
)

// Every path in these main configurations lies inside the instance directory: Debian's
// defaults point at /var/lib/nginx, /run/apache2 and /var/log, which a throwaway instance must
// not share with the system's server (or with another test running at the same time).

func nginxMain(dir, site string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# throwaway nginx instance in %s\n", dir)
	fmt.Fprintf(&b, "pid %s/nginx.pid;\n", dir)
	fmt.Fprintf(&b, "error_log %s/%s info;\n", dir, ErrorLogName)
	b.WriteString("worker_processes 1;\n")
	b.WriteString("events {\n    worker_connections 512;\n}\n")
	b.WriteString("http {\n")
	fmt.Fprintf(&b, "    access_log %s/access.log;\n", dir)
	for _, kind := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&b, "    %s_temp_path %s/tmp/%s;\n", kind, dir, kind)
	}
	b.WriteString("    include /etc/nginx/mime.types;\n")
	b.WriteString("    default_type application/octet-stream;\n")
	fmt.Fprintf(&b, "    include %s;\n", site)
	b.WriteString("}\n")
	return b.String()
}

func apacheMain(dir, docroot string, port int, loadModules string, fcgid bool, site string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# throwaway Apache instance in %s\n", dir)
	b.WriteString("ServerRoot /etc/apache2\n")
	b.WriteString("ServerName 127.0.0.1\n")
	fmt.Fprintf(&b, "Listen 127.0.0.1:%d\n", port)
	fmt.Fprintf(&b, "PidFile %s/apache2.pid\n", dir)
	fmt.Fprintf(&b, "DefaultRuntimeDir %s\n", dir)
	fmt.Fprintf(&b, "Mutex file:%s default\n", dir)
	fmt.Fprintf(&b, "ErrorLog %s/%s\n", dir, ErrorLogName)
	b.WriteString("LogLevel warn\n")
	b.WriteString(loadModules)
	b.WriteString("TypesConfig /etc/mime.types\n")
	fmt.Fprintf(&b, "DocumentRoot %s\n", docroot)
	fmt.Fprintf(&b, "<Directory %s>\n    Require all granted\n</Directory>\n", docroot)
	if fcgid {
		fmt.Fprintf(&b, "FcgidIPCDir %s/fcgid\n", dir)
		fmt.Fprintf(&b, "FcgidProcessTableFile %s/fcgid/shm\n", dir)
	}
	fmt.Fprintf(&b, "Include %s\n", site)
	return b.String()
}

// lighttpdMimeTypes is an explicit mimetype.assign: Debian's main configuration builds its
// list with include_shell, which a self-contained configuration does not have.
var lighttpdMimeTypes = [][2]string{
	{".html", "text/html; charset=utf-8"},
	{".txt", "text/plain; charset=utf-8"},
	{".css", "text/css; charset=utf-8"},
	{".js", "text/javascript; charset=utf-8"},
	{".json", "application/json"},
	{".png", "image/png"},
	{".jpg", "image/jpeg"},
	{".gif", "image/gif"},
	{".svg", "image/svg+xml"},
	{".ico", "image/vnd.microsoft.icon"},
	{"", "application/octet-stream"},
}

func lighttpdMain(dir, docroot string, port int, modules []string, site string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# throwaway lighttpd instance in %s\n", dir)
	b.WriteString("server.modules = (\n")
	for _, m := range modules {
		fmt.Fprintf(&b, "    %q,\n", m)
	}
	b.WriteString(")\n")
	fmt.Fprintf(&b, "server.document-root = %q\n", docroot)
	b.WriteString("server.bind = \"127.0.0.1\"\n")
	fmt.Fprintf(&b, "server.port = %d\n", port)
	fmt.Fprintf(&b, "server.pid-file = %q\n", dir+"/lighttpd.pid")
	fmt.Fprintf(&b, "server.errorlog = %q\n", dir+"/"+ErrorLogName)
	b.WriteString("mimetype.assign = (\n")
	for _, m := range lighttpdMimeTypes {
		fmt.Fprintf(&b, "    %q => %q,\n", m[0], m[1])
	}
	b.WriteString(")\n")
	fmt.Fprintf(&b, "include %q\n", site)
	return b.String()
}

// cherokeeMain binds 127.0.0.1:port and keeps the pid file in dir (Cherokee's launcher reads
// server!pid_file from the main file only, not from an included one). The site, included,
// holds the virtual servers; it may repeat the bind keys with the same values. Cherokee has
// no server-wide error log: without a virtual server's error_writer it writes errors to
// stderr, which the test harness keeps.
func cherokeeMain(dir string, port int, site string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# throwaway Cherokee instance in %s\n", dir)
	fmt.Fprintf(&b, "server!pid_file = %s/cherokee.pid\n", dir)
	fmt.Fprintf(&b, "server!bind!1!port = %d\n", port)
	b.WriteString("server!bind!1!interface = 127.0.0.1\n")
	fmt.Fprintf(&b, "include = %s\n", site)
	return b.String()
}
