// Package webserver starts throwaway nginx, Apache, lighttpd and Cherokee instances for tests.
//
// Each instance runs in its own temporary directory on a free loopback port, from a
// configuration text: the caller writes the site part (what `appgen config` prints, or a
// hand-written server block) and this package wraps it in a self-contained main
// configuration that keeps every path (pid file, logs, nginx's temp paths, mod_fcgid's
// IPC directory) inside that directory, so nothing touches /etc, /var or /run.
//
// The usual shape of a test:
//
//	webserver.Require(t, webserver.Nginx)           // skip when nginx is missing (fail under CI=true)
//	dir := webserver.TempDir(t)                     // 0755, so nginx's workers (user nobody) can read it
//	port := webserver.FreePort(t)
//	site := fmt.Sprintf("server { listen 127.0.0.1:%d; location / { return 200 hi; } }", port)
//	inst := webserver.Start(t, webserver.Config{Program: webserver.Nginx, Dir: dir, Port: port, Site: site})
//	resp, err := http.Get(inst.URL + "/")
//
// Start writes the main configuration, runs the server's own check (`nginx -t`,
// `apache2 -t -f`, `lighttpd -tt -f`), starts the server in the foreground, and returns once
// the port accepts connections. The instance is stopped at test cleanup, and when the test
// has failed its error log is copied into the test output.
//
// The main configurations and the validators are runtime/serverconf's, the code
// `appgen config --check` ships; this package re-exports them (Config, MainConfig, Check)
// for tests and adds what only tests need: running instances, free ports, skipping when a
// program is missing.
//
// What it does not do: TLS, HTTP/2, or Apache's Debian layout (a2enmod, apache2ctl). The
// programs must be the Debian packages' (nginx, apache2 with libapache2-mod-fcgid, lighttpd),
// and Cherokee 1.2.104 built from source (found as serverconf.LookPath says: $APPGEN_CHEROKEE,
// PATH, /opt/cherokee/sbin); a Cherokee instance gets TMPDIR inside its directory.
package webserver
