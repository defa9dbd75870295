// Package serverconf writes self-contained main configurations for nginx, Apache and
// lighttpd around a site, and runs each server's own validator on them (`nginx -t`,
// `apache2 -t -f`, `lighttpd -tt -f`) in a throwaway directory.
//
// It is the checking code `appgen config --check` ships (package deploy uses it), and the
// test harness runtime/testsupport/webserver builds its running instances on it: the harness imports
// the shipped code, never the reverse.
//
// Every path a main configuration names lies inside Config.Dir (pid file, logs, nginx's
// temp paths, mod_fcgid's IPC directory): Debian's defaults point at /var/lib/nginx,
// /run/apache2 and /var/log, which a throwaway instance must not share with the system's
// server. Apache's modules are loaded from ApacheModuleDir, lighttpd's mimetype.assign is
// explicit (Debian's main configuration builds it with include_shell, which a checked
// configuration must never run), and nothing under /etc is read except the servers' own
// mime.types.
package serverconf
