package testcert

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"testing"
)

func TestChainVerifies(t *testing.T) {
	ca, err := NewCA("Test CA")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.Sign("server", net.IPv4(127, 0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := srv.Cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Errorf("verify for usage %v: %v", usage, err)
		}
	}
	if err := srv.Cert.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
	if _, err := tls.X509KeyPair(srv.CertPEM(), srv.KeyPEM()); err != nil {
		t.Errorf("PEM pair: %v", err)
	}
	if b, _ := pem.Decode(srv.CertPEM()); b == nil || b.Type != "CERTIFICATE" {
		t.Errorf("CertPEM: %q", srv.CertPEM())
	}
	if srv.TLS().Leaf != srv.Cert {
		t.Error("TLS().Leaf is not the certificate")
	}
}
