// Package serverconf writes self-contained main configurations for nginx, Apache, lighttpd
// and Cherokee around a site, and runs each server's own validator on them (`nginx -t`,
// `apache2 -t -f`, `lighttpd -tt -f`, `cherokee -t -C`) in a throwaway directory. h2o's
// configuration is one complete file: CheckFile runs `h2o -t -c` on it as it is.
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
//
// No distribution packages Cherokee, so LookPath finds it by $APPGEN_CHEROKEE (CherokeeEnv)
// when that is set, else in PATH and the sbin directories, else at CherokeeDefault
// (/opt/cherokee/sbin/cherokee, where the project's CI builds it). Cherokee's main file
// holds only the pid file, the 127.0.0.1 bind and an include of the site: the site brings
// the virtual servers, the "default" one among them.
package serverconf
