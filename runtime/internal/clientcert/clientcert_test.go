package clientcert

import (
	"crypto/tls"
	"encoding/pem"
	"slices"
	"strings"
	"testing"

	"github.com/appgen/appgen/runtime/testsupport/testcert"
)

func TestState(t *testing.T) {
	ca, leaf := testcert.ClientPair(t, "client.example.org")
	leafPEM, caPEM := string(leaf.CertPEM()), string(ca.CertPEM())
	badDER := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")}))
	key := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("k")}))
	tests := []struct {
		name     string
		cert     string
		protocol string
		wantCNs  []string
		version  uint16
		wantErr  string
	}{
		{"one certificate", leafPEM, "TLSv1.3", []string{"client.example.org"}, tls.VersionTLS13, ""},
		{"with its chain", leafPEM + caPEM, "TLSv1.2", []string{"client.example.org", "Test CA"}, tls.VersionTLS12, ""},
		{"no certificate", "", "TLSv1.1", nil, tls.VersionTLS11, ""},
		{"TLS 1.0, and text around the PEM", "subject=x\n" + leafPEM + "\n", "TLSv1", []string{"client.example.org"}, tls.VersionTLS10, ""},
		{"unknown protocol", leafPEM, "SSLv3", []string{"client.example.org"}, 0, ""},
		{"not PEM", "MIIB...", "", nil, 0, "of 7 bytes holds no PEM certificate"},
		{"a key", key, "", nil, 0, `holds a PEM "PRIVATE KEY" block, want CERTIFICATE`},
		{"bad DER after a good one", leafPEM + badDER, "", nil, 0, "certificate 2: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := State(tt.cert, tt.protocol)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var cns []string
			for _, c := range cs.PeerCertificates {
				cns = append(cns, c.Subject.CommonName)
			}
			if !slices.Equal(cns, tt.wantCNs) || cs.Version != tt.version || !cs.HandshakeComplete {
				t.Errorf("certificates %q, version %#x, handshake %v; want %q, %#x, true", cns, cs.Version, cs.HandshakeComplete, tt.wantCNs, tt.version)
			}
		})
	}
}

func FuzzState(f *testing.F) {
	ca, err := testcert.NewCA("Fuzz CA")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(ca.CertPEM()), "TLSv1.3")
	f.Add("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "TLSv1.2")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, cert, protocol string) {
		cs, err := State(cert, protocol)
		if err == nil && cert != "" && len(cs.PeerCertificates) == 0 {
			t.Fatalf("certificate %q accepted with none parsed", cert)
		}
	})
}
