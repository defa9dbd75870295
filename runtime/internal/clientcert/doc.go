// Package clientcert turns what a web server that terminated TLS says about
// the client's side of it (the client's certificate in PEM, the protocol's
// name) into the tls.ConnectionState the protocol servers give handlers as
// r.TLS, so that FastCGI, SCGI and AJP13 fill it the same way.
package clientcert
