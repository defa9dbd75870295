package ajp

import (
	"crypto/tls"

	"github.com/appgen/appgen/runtime/internal/clientcert"
)

// tlsState describes the TLS connection between the client and the web
// server, from what the web server sent: the client's certificates (the
// ssl_cert attribute: PEM, the client's own first, then any chain mod_jk's
// +ForwardSSLCertChain adds) and the protocol version (AJP_SSL_PROTOCOL).
// An ssl_cert that is not PEM certificates is refused with 400.
func (a *Attributes) tlsState() (*tls.ConnectionState, error) {
	cs, err := clientcert.State(a.SSLCert, a.SSLProtocol)
	if err != nil {
		return nil, refuse(400, "ajp: ssl_cert %v", err)
	}
	return cs, nil
}
