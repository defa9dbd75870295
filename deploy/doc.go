// Package deploy writes what puts a generated project behind a web server: server
// configurations, the FastCGI launcher, a restart script and a systemd unit. It is the
// library behind `appgen config`.
//
// Inputs are typed (Options, Backend); Render checks them and renders one target's
// template, which sits beside the target's Go file (nginx.go, nginx.conf.tmpl). Every output starts with comments recording the appgen
// version and every input, defaults included, and ends by saying how to check and reload
// that server.
//
// Every value passes two independent layers. validate.go checks each field against an
// allow-list for its kind (host, port, absolute path, URL path, server name, secret, user,
// profile, comment text; control characters never pass), and a refusal is a *FieldError
// naming the Options field and what it wants; callers map the field to their own input (the
// CLI to its flag: this package knows no flag names). quote.go then writes each value with
// its target's own quoting (POSIX single quotes, nginx/Apache/lighttpd strings, systemd
// arguments, Cherokee values, Caddyfile tokens, haproxy.cfg words, h2o.conf YAML scalars), each function refusing what its syntax cannot carry.
// directives.go reads each syntax back as its program's lexer does; Check uses it to refuse
// any directive a target never writes before a validator sees the output, and the property
// tests to prove a hostile value changes no directive.
//
// Inside a project, ReadProject reads go.mod and settings/deploy.go (with go/parser, without
// building anything) so the output matches what `runfcgi` listens on by default, and
// Project.Options turns them into Options. ProjectFiles renders the default set that
// `appgen startproject` writes into a new project.
//
// Targets and what each writes:
//
//	apache        Apache 2.4 <VirtualHost>: mod_proxy_fcgi/scgi/ajp/http, balancer:// for several backends
//	apache-fcgid  Apache 2.4 <VirtualHost>: mod_fcgid spawns the launcher
//	htaccess      .htaccess for shared hosting (mod_fcgid)
//	fcgi          the launcher NAME.fcgi (sets APPGEN_SETTINGS, cds, execs runfcgi watching itself)
//	lighttpd      fastcgi.server / scgi.server / proxy.server, optionally spawning with bin-path
//	cherokee      cherokee.conf key paths: vserver, rules, round_robin balancer, sources
//	nginx         upstream + server block with an explicit parameter list
//	restart       the pid-file restart script
//	systemd       a unit running runfcgi in the foreground
//	caddy         a Caddyfile site: reverse_proxy with the fastcgi transport, file_server, lb_policy
//	haproxy       a complete haproxy.cfg: fcgi-app multiplexing requests, health-checked servers
//	h2o           a complete h2o.conf: fastcgi.connect (one backend) or fastcgi.spawn, file.dir statics
//	docker        a multi-stage Dockerfile: offline static build, non-root runfcgi (or runserver)
//	dockerignore  the Dockerfile's .dockerignore (its companion): no secrets in the build context
//	kubernetes    Deployment + Service (+ the nginx sidecar's site in a ConfigMap), probes, drains
//
// docker, dockerignore and kubernetes are written only on request (not by ProjectFiles), and
// no installed program validates them: Check reads them back (directives_container.go) and
// says so.
//
// What it does not do: mod_fastcgi's FastCGIExternalServer (gone from current
// distributions; mod_proxy_fcgi replaces it), TLS, or writing into /etc. Check (used by
// `appgen config --check`) validates an output with the real server's own checker in a
// throwaway directory (runtime/serverconf), never the system's configuration.
package deploy
