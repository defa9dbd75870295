package peertest

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/appgen/appgen/runtime/gateway"
)

// Received is what Echo reports about the request it was handed, as JSON.
type Received struct {
	Method     string              `json:"method"`
	Path       string              `json:"path"`        // r.URL.Path: the path inside the application
	RequestURI string              `json:"request_uri"` // r.RequestURI: the client's original URI
	ScriptName string              `json:"script_name"` // gateway.ScriptName(r)
	Query      string              `json:"query"`       // r.URL.RawQuery
	Host       string              `json:"host"`
	RemoteAddr string              `json:"remote_addr"`
	HTTPS      bool                `json:"https"`
	TLSVersion string              `json:"tls_version,omitempty"` // tls.VersionName(r.TLS.Version)
	ClientCert string              `json:"client_cert,omitempty"` // subject CN of r.TLS.PeerCertificates[0]
	Header     map[string][]string `json:"header"`
	BodyLen    int64               `json:"body_len"`
	BodySHA256 string              `json:"body_sha256"` // hex
	BodyErr    string              `json:"body_err,omitempty"`
}

// Echo answers every request with a Received describing it. It reads the whole body, so a
// 10 MB upload is hashed, not kept.
func Echo(w http.ResponseWriter, r *http.Request) {
	h := sha256.New()
	n, err := io.Copy(h, r.Body)
	rec := Received{
		Method:     r.Method,
		Path:       r.URL.Path,
		RequestURI: r.RequestURI,
		ScriptName: gateway.ScriptName(r),
		Query:      r.URL.RawQuery,
		Host:       r.Host,
		RemoteAddr: r.RemoteAddr,
		HTTPS:      r.TLS != nil,
		Header:     r.Header,
		BodyLen:    n,
		BodySHA256: hex.EncodeToString(h.Sum(nil)),
	}
	if r.TLS != nil {
		rec.TLSVersion = tls.VersionName(r.TLS.Version)
		if len(r.TLS.PeerCertificates) > 0 {
			rec.ClientCert = r.TLS.PeerCertificates[0].Subject.CommonName
		}
	}
	if err != nil {
		rec.BodyErr = err.Error()
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	_ = enc.Encode(rec)
}

// HeaderValue returns the first value of the header named name (any case) in rec.
func (rec Received) HeaderValue(name string) string {
	for k, v := range rec.Header {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}
