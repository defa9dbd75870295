// Package gateway is what a handler behind appgen's protocol servers
// (runtime/fastcgi, runtime/scgi, runtime/ajp) needs to know about the
// gateway in front of it: the public mount prefix of its application.
//
// Every protocol maps a request the same way (runtime/internal/request):
//
//   - r.URL.Path is the path inside the application (Django's path_info).
//   - r.RequestURI is the client's request URI as the web server sent it
//     (for AJP, the URI the web server forwarded).
//   - ScriptName(r) is the public mount prefix, never ending in a slash:
//     for FastCGI and SCGI computed from the request's variables as Django
//     1.8's get_script_name does, or the server's ForceScriptName; for AJP,
//     ForceScriptName only. Handlers build links as ScriptName(r) + "/path".
//   - r.RemoteAddr, r.TLS (with the client's certificates) and r.Host are
//     what the web server said about the client; r.URL is absolute (scheme
//     and host) when a host is known, and never reads "http:///path".
//   - The Proxy header is dropped (httpoxy).
//
// What the web server says about the client is trusted because only the
// web server can reach the socket: see docs/security.md.
package gateway
