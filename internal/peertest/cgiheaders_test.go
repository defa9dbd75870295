package peertest

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// TestGatewayHeaders pins issue 14: a handler's own Status header reached Apache after the
// runtime's status line, and Apache answered with it; a 200 carrying a local Location was
// served by mod_proxy_scgi as an internal redirect (a 500 here) and by mod_fcgid too, and
// mod_fcgid turned an absolute one into a 302. Through net/http's server all are plain
// headers of a 200, and so they must be behind every gateway.
func TestGatewayHeaders(t *testing.T) {
	base := prefix + GatewayHeadersPath
	tests := []struct {
		name, wantBody, wantLocation string
		wantStatus                   int
	}{
		{"status", GatewayHeadersBody, "", 200},
		{"location", GatewayHeadersBody, "", 200},
		{"location-absolute", GatewayHeadersBody, "", 200},
		{"redirect", "", base + "elsewhere", 302},
	}
	for _, p := range peers {
		switch p.name {
		case "apache mod_proxy_fcgi", "apache mod_proxy_scgi", "apache mod_fcgid", "nginx scgi_pass":
		default:
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			inst, _ := setUp(t, p)
			client := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			}}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					resp, err := client.Get(inst.URL + base + tt.name)
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != tt.wantStatus {
						t.Errorf("status %d, want %d (body %.60q)", resp.StatusCode, tt.wantStatus, body)
					}
					if tt.wantBody != "" && string(body) != tt.wantBody {
						t.Errorf("body %.60q, want %q", body, tt.wantBody)
					}
					if got := resp.Header.Get("Location"); got != tt.wantLocation {
						t.Errorf("Location %q, want %q", got, tt.wantLocation)
					}
				})
			}
		})
	}
}
