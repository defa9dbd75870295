// Package peertest tests appgen's protocol servers (runtime/fastcgi, runtime/scgi, runtime/ajp)
// against the real web servers that will sit in front of them: nginx's fastcgi_pass and
// scgi_pass, and Apache 2.4's mod_proxy_fcgi, mod_proxy_scgi, mod_proxy_ajp and mod_fcgid.
//
// Each test starts the web server on loopback in a temporary directory
// (runtime/testsupport/webserver) with the site `appgen config` writes for it (deploy.Render,
// mounted at /app), so the peers are what users run; a test adds only what it needs around
// the site (a body limit, TLS). The protocol server runs in-process on a listener the test
// opens, with Handler (Echo, and the gateway-header cases under GatewayHeadersPath) as the handler;
// the mod_fcgid test instead builds testdata/echoapp and lets Apache spawn it through runfcgi.
// Requests go through the web server with net/http, and the test compares what the handler
// received, as Echo reports it, with what the client sent.
//
// Tests skip when a server is not installed, except under CI=true, where they fail.
package peertest
