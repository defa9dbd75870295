package peertest

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"path"
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

// GatewayHeadersPath is where Handler answers with the headers a CGI gateway would obey
// instead of passing on (TestGatewayHeaders): below it, "status" sets a Status header,
// "location" a local Location and "location-absolute" an absolute one, each on a 200 whose body
// is GatewayHeadersBody; "redirect" is a real 302 to "elsewhere".
const GatewayHeadersPath = "/gateway-headers/"

// GatewayHeadersBody is the body of GatewayHeadersPath's 200 responses.
const GatewayHeadersBody = "the handler's page"

// Handler serves GatewayHeadersPath's cases and Echo for every other path.
func Handler(w http.ResponseWriter, r *http.Request) {
	dir, name := path.Split(r.URL.Path)
	if dir != GatewayHeadersPath {
		Echo(w, r)
		return
	}
	switch name {
	case "status":
		w.Header().Set("Status", "404 Not Found")
	case "location":
		w.Header().Set("Location", gateway.ScriptName(r)+GatewayHeadersPath+"elsewhere")
	case "location-absolute":
		w.Header().Set("Location", "http://example.com/elsewhere")
	case "redirect":
		http.Redirect(w, r, gateway.ScriptName(r)+GatewayHeadersPath+"elsewhere", http.StatusFound)
		return
	default:
		Echo(w, r)
		return
	}
	io.WriteString(w, GatewayHeadersBody)
}
