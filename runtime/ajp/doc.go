// Package ajp serves an http.Handler over AJP13, the Apache JServ Protocol
// version 1.3 that Apache's mod_proxy_ajp and mod_jk speak to servlet
// containers, as described in Tomcat's "AJPv13" protocol document.
//
// What a Server does with a connection:
//
//   - Packets are framed 0x1234 (web server to us) and "AB" (us to the web
//     server) with a 16-bit length; PacketSize (8 KiB unless set, at most
//     64 KiB) must match the web server's.
//   - A FORWARD_REQUEST becomes an *http.Request: coded and stored methods
//     (all 27 codes, and any token through stored_method), coded and named
//     headers, req_uri with the query_string attribute, remote_addr with the
//     AJP_REMOTE_PORT attribute as r.RemoteAddr, is_ssl as a non-nil r.TLS
//     (the client's certificates parsed from the ssl_cert attribute into
//     PeerCertificates, AJP_SSL_PROTOCOL as Version) and the https scheme,
//     the Host header (else server_name:server_port) as r.Host. An ssl_cert
//     that is not PEM certificates is refused with 400. The attributes are
//     available as sent with RequestAttributes.
//   - The body follows the GET_BODY_CHUNK flow: the first packet arrives
//     unasked when Content-Length is positive, the rest only when the handler
//     reads; a chunked body (Transfer-Encoding, no Content-Length) is asked
//     for and ends with an empty packet. A body packet the handler left
//     unread is swallowed before the next request.
//   - The response goes out as SEND_HEADERS (common headers coded),
//     SEND_BODY_CHUNKs that each fill a packet, and END_RESPONSE with reuse=1,
//     so the web server keeps the connection for its next request; reuse=0,
//     and the connection closes, after anything that leaves the stream in
//     doubt (a malformed packet, a handler panic after its headers went
//     out, a body shorter than its Content-Length).
//   - CPING gets CPONG at any time between requests; SHUTDOWN is refused.
//
// # Security
//
// AJP13 trusts the web server completely, which is what Ghostcat
// (CVE-2020-1938) exploited in Tomcat: anyone who could reach the port
// could send attributes that the container took for the web server's. So:
//
//   - With Secret set, a request without the same secret attribute
//     (mod_proxy_ajp's secret= parameter) gets 403 and its connection closes.
//   - Without a Secret, Serve refuses any listener that is not on a
//     loopback address or a unix socket (ErrNoSecret).
//   - Only the attributes of the protocol are accepted, and of the free-form
//     req_attribute pairs only AJP_REMOTE_PORT, AJP_LOCAL_ADDR,
//     AJP_SSL_PROTOCOL and JK_LB_ACTIVATION; any other name
//     (javax.servlet.include.path_info, …) gets 403 and the connection closes.
//   - Two Content-Length headers, or Content-Length with Transfer-Encoding,
//     get 400 and the connection closes, as do header values with control
//     characters. The Proxy header is dropped (httpoxy).
//
// Every malformed packet closes only its connection, with one line in
// ErrorLog naming the peer and the problem, such as
// "ajp: 127.0.0.1:4242: packet magic 0x4745, want 0x1234".
//
// # Paths
//
// mod_proxy_ajp sends the backend path as req_uri: with
// "ProxyPass /app/ ajp://127.0.0.1:8009/" a request for /app/x arrives as
// /x, and with "ProxyPass /app/ ajp://127.0.0.1:8009/app/" as /app/x. Set
// ForceScriptName to "/app" in both cases: r.URL.Path is then /x, the
// prefix being cut from req_uri when it starts with it, and
// gateway.ScriptName(r) is "/app", for building links. r.RequestURI is
// req_uri and the query as the web server sent them.
//
// # Not supported
//
// AJP13 has no way to send 1xx interim responses or to upgrade a
// connection, so WriteHeader with 1xx is ignored and Hijack is not
// offered. The protocol cannot tell the container that the client went
// away, so a request's context ends only when its handler returns. r.TLS
// has no CipherSuite: web servers name suites as OpenSSL does, and the
// name is in RequestAttributes.
package ajp
