package ajp

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
)

// tlsState describes the TLS connection between the client and the web
// server, from what the web server sent: the client's certificates (the
// ssl_cert attribute: PEM, the client's own first, then any chain mod_jk's
// +ForwardSSLCertChain adds) and the protocol version (AJP_SSL_PROTOCOL).
// The web server completed the handshake, so HandshakeComplete is set. An
// ssl_cert that is not PEM certificates is refused with 400: a handler that
// authenticates clients by certificate must not see a request whose
// certificate could not be read as one that came without.
func (a *Attributes) tlsState() (*tls.ConnectionState, error) {
	cs := &tls.ConnectionState{HandshakeComplete: true, Version: tlsVersion(a.SSLProtocol)}
	if a.SSLCert == "" {
		return cs, nil
	}
	rest := []byte(a.SSLCert)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, refuse(400, "ajp: ssl_cert holds a PEM %q block, want CERTIFICATE", block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, refuse(400, "ajp: ssl_cert certificate %d: %v", len(cs.PeerCertificates)+1, err)
		}
		cs.PeerCertificates = append(cs.PeerCertificates, cert)
	}
	if len(cs.PeerCertificates) == 0 {
		return nil, refuse(400, "ajp: ssl_cert of %d bytes holds no PEM certificate", len(a.SSLCert))
	}
	return cs, nil
}

// tlsVersion maps the protocol names Apache's mod_ssl and mod_jk send
// (OpenSSL's) to crypto/tls's constants; 0 for a name it does not know,
// SSLv3 included.
func tlsVersion(name string) uint16 {
	switch name {
	case "TLSv1.3":
		return tls.VersionTLS13
	case "TLSv1.2":
		return tls.VersionTLS12
	case "TLSv1.1":
		return tls.VersionTLS11
	case "TLSv1":
		return tls.VersionTLS10
	}
	return 0
}
