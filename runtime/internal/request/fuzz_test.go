package request

import (
	"context"
	"net/url"
	"strings"
	"testing"
)

// FuzzBuild gives Build arbitrary URIs, PATH_INFOs, script names and
// protocols and checks that it refuses the request or keeps its promises:
// a path that starts with "/", a RequestURI a client could have sent, a
// script name without a trailing slash, and no "http:///" URL.
func FuzzBuild(f *testing.F) {
	f.Add("/app/a%20b?x=1", "", false, "/app/", "HTTP/1.1", "")
	f.Add("/app/100%?x", "/100%", true, "/app", "HTTP/2", "h")
	f.Add("/app/a b", "/a b", true, "/app", "", "")
	f.Add("", "/a%41", true, "/s", "HTTP/1.0", "h:1")
	f.Fuzz(func(t *testing.T, uri, pathInfo string, hasPathInfo bool, script, proto, host string) {
		fs := Fields{Method: "GET", Proto: proto, URI: uri, PathInfo: pathInfo, HasPathInfo: hasPathInfo, ScriptName: script}
		var header []Param
		if host != "" {
			header = []Param{{Name: "Host", Value: host}}
		}
		r, err := Build(context.Background(), &fs, header, nil, &testNames)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "test: bad ") {
				t.Fatalf("error %q does not name the field", err)
			}
			return
		}
		if hasPathInfo && pathInfo != "" && strings.TrimPrefix(r.URL.Path, "/") != strings.TrimPrefix(pathInfo, "/") {
			t.Errorf("path %q, want PATH_INFO %q", r.URL.Path, pathInfo)
		}
		if !strings.HasPrefix(r.URL.Path, "/") {
			t.Errorf("path %q does not start with /", r.URL.Path)
		}
		if s := ScriptName(r); strings.HasSuffix(s, "/") {
			t.Errorf("ScriptName %q ends in a slash", s)
		}
		if strings.HasPrefix(r.URL.String(), "http:///") {
			t.Errorf("URL %q has a scheme and no host", r.URL)
		}
		if hasPathInfo {
			for i := 0; i < len(r.RequestURI); i++ {
				if c := r.RequestURI[i]; c <= ' ' || c == 0x7F {
					t.Fatalf("RequestURI %q holds byte %#x, which no request line carries", r.RequestURI, c)
				}
			}
			if uri == "" || r.RequestURI != uri {
				if _, err := url.ParseRequestURI(r.RequestURI); err != nil {
					t.Errorf("rebuilt RequestURI %q does not parse: %v", r.RequestURI, err)
				}
			}
		}
	})
}
