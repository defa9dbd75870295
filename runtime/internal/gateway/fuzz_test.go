package gateway

import (
	"github.com/appgen/appgen/runtime/internal/request"

	"strings"
	"testing"
)

// FuzzNewRequest feeds NewRequest arbitrary variables, one NAME=value per
// line, and checks it either fails with a gateway error or keeps its
// promises about the script name and path.
func FuzzNewRequest(f *testing.F) {
	f.Add("REQUEST_METHOD=GET\nREQUEST_URI=/a/b?c=d\nSCRIPT_NAME=/a\n", "")
	f.Add("REQUEST_METHOD=POST\nSCRIPT_URL=//x//y/\nPATH_INFO=/y/\nCONTENT_LENGTH=12\nHTTP_X_A=1\nHTTP_X_A=2\n", "/forced/")
	f.Add("REQUEST_METHOD=GET\nREQUEST_URI=/%E2%82%AC\nHTTPS=on\nREMOTE_ADDR=::1\nHTTP_PROXY=x\n", "")
	f.Add("REQUEST_METHOD=GET\nREDIRECT_URL=/\nPATH_INFO=\nSERVER_PROTOCOL=HTTP/2.0\n", "")
	f.Fuzz(func(t *testing.T, vars, force string) {
		var ps []Param
		for _, line := range strings.Split(vars, "\n") {
			n, v, _ := strings.Cut(line, "=")
			ps = append(ps, Param{Name: n, Value: v})
		}
		cfg := &Config{}
		if force != "" {
			cfg.ForceScriptName = &force
		}
		r, err := NewRequest(ps, nil, cfg)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "gateway: ") {
				t.Fatalf("error %q lacks the gateway: prefix", err)
			}
			return
		}
		if s := request.ScriptName(r); strings.HasSuffix(s, "/") {
			t.Errorf("ScriptName %q ends in a slash", s)
		}
		if r.URL.Path == "" {
			t.Error("URL.Path is empty")
		}
		if r.ContentLength < 0 {
			t.Errorf("ContentLength %d < 0", r.ContentLength)
		}
		if _, ok := r.Header["Proxy"]; ok {
			t.Error("Proxy header kept")
		}
	})
}
