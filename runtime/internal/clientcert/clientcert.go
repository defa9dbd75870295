package clientcert

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// State returns the TLS state of a request whose web server completed the
// handshake: HandshakeComplete set, Version from protocol (see Version),
// and PeerCertificates parsed from certPEM, the client's own certificate
// first, then any chain after it; none when certPEM is empty. certPEM that
// is not PEM certificates is an error: a handler that authenticates by
// certificate must not take such a request for one sent without.
func State(certPEM, protocol string) (*tls.ConnectionState, error) {
	cs := &tls.ConnectionState{HandshakeComplete: true, Version: Version(protocol)}
	if certPEM == "" {
		return cs, nil
	}
	rest := []byte(certPEM)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("holds a PEM %q block, want CERTIFICATE", block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %v", len(cs.PeerCertificates)+1, err)
		}
		cs.PeerCertificates = append(cs.PeerCertificates, cert)
	}
	if len(cs.PeerCertificates) == 0 {
		return nil, fmt.Errorf("of %d bytes holds no PEM certificate", len(certPEM))
	}
	return cs, nil
}

// Version maps the protocol names web servers send (OpenSSL's, as Apache's
// SSL_PROTOCOL and nginx's $ssl_protocol spell them) to crypto/tls's
// constants; 0 for a name it does not know, SSLv3 included.
func Version(name string) uint16 {
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
