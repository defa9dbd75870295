package request

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

var testNames = Names{Prefix: "test", Method: "METHOD", Proto: "PROTO", URI: "URI"}

func TestBuild(t *testing.T) {
	tests := []struct {
		name                           string
		f                              Fields
		wantPath, wantURI, wantURL     string
		wantScript, wantHost, wantAddr string
	}{
		{"path from the URI, script cut",
			Fields{Method: "GET", URI: "/app/a%20b?x=1", ScriptName: "/app/"},
			"/a b", "/app/a%20b?x=1", "/a%20b?x=1", "/app", "", ""},
		{"PATH_INFO wins, query apart",
			Fields{Method: "GET", URI: "/app/x?q", PathInfo: "/y", HasPathInfo: true, Query: "z", HasQuery: true, ScriptName: "/app"},
			"/y", "/app/x?q", "/y?z", "/app", "", ""},
		{"empty PATH_INFO is the root",
			Fields{Method: "GET", URI: "/app", PathInfo: "", HasPathInfo: true, ScriptName: "/app"},
			"/", "/app", "/", "/app", "", ""},
		{"no URI: rebuilt",
			Fields{Method: "GET", PathInfo: "/a b", HasPathInfo: true, Query: "q=1", HasQuery: true, ScriptName: "/s"},
			"/a b", "/s/a%20b?q=1", "/a%20b?q=1", "/s", "", ""},
		{"host from the server name and port",
			Fields{Method: "GET", URI: "/x", ServerName: "s.example", ServerPort: "8080"},
			"/x", "/x", "http://s.example:8080/x", "", "s.example:8080", ""},
		{"no host: a relative URL, never http:///x",
			Fields{Method: "GET", URI: "/x", RemoteAddr: "::1"},
			"/x", "/x", "/x", "", "", "[::1]:0"},
		{"HTTPS",
			Fields{Method: "GET", URI: "/x", ServerName: "s", TLS: &tls.ConnectionState{}, RemoteAddr: "192.0.2.1", RemotePort: "5"},
			"/x", "/x", "https://s/x", "", "s", "192.0.2.1:5"},
		// Issue 13: Cherokee sends REQUEST_URI decoded, next to PATH_INFO.
		{"decoded URI with a lone percent",
			Fields{Method: "GET", URI: "/app/100%?x=1", PathInfo: "/100%", HasPathInfo: true, Query: "x=1", HasQuery: true, ScriptName: "/app"},
			"/100%", "/app/100%25?x=1", "/100%25?x=1", "/app", "", ""},
		{"decoded URI with a space",
			Fields{Method: "GET", URI: "/app/a b", PathInfo: "/a b", HasPathInfo: true, ScriptName: "/app"},
			"/a b", "/app/a%20b", "/a%20b", "/app", "", ""},
		{"decoded URI whose percent looks like an escape",
			Fields{Method: "GET", URI: "/app/a%41", PathInfo: "/a%41", HasPathInfo: true, ScriptName: "/app"},
			"/a%41", "/app/a%2541", "/a%2541", "/app", "", ""},
		{"relative URI next to PATH_INFO rebuilt",
			Fields{Method: "GET", URI: "x?y", PathInfo: "/x", HasPathInfo: true, ScriptName: "/app"},
			"/x", "/app/x?y", "/x?y", "/app", "", ""},
		// Issue 13: h2o 2.2 sends the whole path, decoded, as PATH_INFO, and the
		// configuration's setenv the mount point as SCRIPT_NAME.
		{"whole path as PATH_INFO: script cut",
			Fields{Method: "GET", URI: "/app/deep/caf%C3%A9?q=1", PathInfo: "/app/deep/café", HasPathInfo: true, Query: "q=1", HasQuery: true, ScriptName: "/app"},
			"/deep/café", "/app/deep/caf%C3%A9?q=1", "/deep/caf%C3%A9?q=1", "/app", "", ""},
		{"whole path as PATH_INFO: the mount point itself",
			Fields{Method: "GET", URI: "/app", PathInfo: "/app", HasPathInfo: true, ScriptName: "/app"},
			"/", "/app", "/", "/app", "", ""},
		{"whole path as PATH_INFO, normalized",
			Fields{Method: "GET", URI: "/app/./x/../y/", PathInfo: "/app/y/", HasPathInfo: true, ScriptName: "/app"},
			"/y/", "/app/./x/../y/", "/y/", "/app", "", ""},
		{"split path whose PATH_INFO starts with the script name",
			Fields{Method: "GET", URI: "/app/app/x", PathInfo: "/app/x", HasPathInfo: true, ScriptName: "/app"},
			"/app/x", "/app/app/x", "/app/x", "/app", "", ""},
		{"PATH_INFO that starts with the script name's letters only",
			Fields{Method: "GET", URI: "/appx", PathInfo: "/appx", HasPathInfo: true, ScriptName: "/app"},
			"/appx", "/appx", "/appx", "/app", "", ""},
		{"encoded URI next to PATH_INFO kept as sent",
			Fields{Method: "GET", URI: "/app/a%41", PathInfo: "/aA", HasPathInfo: true, ScriptName: "/app"},
			"/aA", "/app/a%41", "/aA", "/app", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Build(context.Background(), &tt.f, nil, nil, &testNames)
			if err != nil {
				t.Fatal(err)
			}
			if r.URL.Path != tt.wantPath || r.RequestURI != tt.wantURI || r.URL.String() != tt.wantURL {
				t.Errorf("path %q RequestURI %q URL %q, want %q %q %q", r.URL.Path, r.RequestURI, r.URL, tt.wantPath, tt.wantURI, tt.wantURL)
			}
			if got := ScriptName(r); got != tt.wantScript {
				t.Errorf("ScriptName %q, want %q", got, tt.wantScript)
			}
			if r.Host != tt.wantHost || r.RemoteAddr != tt.wantAddr {
				t.Errorf("Host %q RemoteAddr %q, want %q %q", r.Host, r.RemoteAddr, tt.wantHost, tt.wantAddr)
			}
			if (r.TLS != nil) != (tt.f.TLS != nil) {
				t.Errorf("TLS %v, want %v", r.TLS != nil, tt.f.TLS != nil)
			}
			if _, err := url.ParseRequestURI(r.RequestURI); err != nil {
				t.Errorf("RequestURI %q does not parse: %v", r.RequestURI, err)
			}
			if r.Body != http.NoBody {
				t.Errorf("Body %v, want http.NoBody", r.Body)
			}
		})
	}
}

func TestBuildHeader(t *testing.T) {
	f := Fields{Method: "POST", URI: "/x", ContentLength: 5, ServerName: "s", ServerPort: "81"}
	header := []Param{
		{Name: "Host", Value: "first"}, {Name: "Proxy", Value: "http://evil"}, {Name: "Cookie", Value: "a=1"},
		{Name: "Transfer-Encoding", Value: "chunked"}, {Name: "Host", Value: "second"}, {Name: "Cookie", Value: "b=2"},
		{Name: "Accept", Value: "*/*"},
	}
	r, err := Build(context.Background(), &f, header, nil, &testNames)
	if err != nil {
		t.Fatal(err)
	}
	want := http.Header{"Cookie": {"a=1", "b=2"}, "Accept": {"*/*"}}
	if len(r.Header) != len(want) || strings.Join(r.Header["Cookie"], ",") != "a=1,b=2" || r.Header.Get("Accept") != "*/*" {
		t.Errorf("header %v, want %v", r.Header, want)
	}
	if r.Host != "first" || r.URL.String() != "http://first/x" || r.ContentLength != 5 || r.TransferEncoding != nil {
		t.Errorf("Host %q URL %q ContentLength %d TransferEncoding %v, want first http://first/x 5 nil", r.Host, r.URL, r.ContentLength, r.TransferEncoding)
	}
	f.Chunked = true
	r, _ = Build(context.Background(), &f, header, nil, &testNames)
	if r.ContentLength != -1 || len(r.TransferEncoding) != 1 || r.TransferEncoding[0] != "chunked" {
		t.Errorf("chunked: ContentLength %d TransferEncoding %v, want -1 [chunked]", r.ContentLength, r.TransferEncoding)
	}
}

func TestBuildProtocols(t *testing.T) {
	for _, tt := range []struct {
		proto        string
		major, minor int
	}{{"", 1, 1}, {"HTTP/1.0", 1, 0}, {"HTTP/1.1", 1, 1}, {"HTTP/2.0", 2, 0}, {"HTTP/2", 2, 0}, {"HTTP/3", 3, 0}} {
		t.Run(tt.proto, func(t *testing.T) {
			r, err := Build(context.Background(), &Fields{Method: "GET", Proto: tt.proto}, nil, nil, &testNames)
			if err != nil {
				t.Fatal(err)
			}
			if r.ProtoMajor != tt.major || r.ProtoMinor != tt.minor {
				t.Errorf("%d.%d, want %d.%d", r.ProtoMajor, r.ProtoMinor, tt.major, tt.minor)
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name string
		f    Fields
		want string
	}{
		{"no method", Fields{URI: "/"}, `test: bad METHOD "": want a method`},
		{"method not a token", Fields{Method: "G T", URI: "/"}, `test: bad METHOD "G T"`},
		{"protocol", Fields{Method: "GET", Proto: "SPDY"}, `test: bad PROTO "SPDY": want HTTP/major.minor`},
		{"relative URI", Fields{Method: "GET", URI: "x/y"}, `test: bad URI "x/y": want an absolute path`},
		{"bad escape without PATH_INFO", Fields{Method: "GET", URI: "/100%"}, `test: bad URI "/100%"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(context.Background(), &tt.f, nil, nil, &testNames)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %v, want one starting %q", err, tt.want)
			}
		})
	}
}

func TestWithScriptName(t *testing.T) {
	r, _ := http.NewRequest("GET", "/", nil)
	if ScriptName(r) != "" {
		t.Errorf("ScriptName of a plain request %q, want empty", ScriptName(r))
	}
	if got := ScriptName(WithScriptName(r, "/b//")); got != "/b" {
		t.Errorf("ScriptName %q, want /b", got)
	}
}
