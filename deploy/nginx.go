package deploy

import (
	"context"
	"github.com/appgen/appgen/runtime/serverconf"
	"strings"
)

// The nginx target: an upstream and a server block with an explicit parameter list.
var nginxTarget = &target{name: "nginx", summary: "nginx server block with an upstream, static files and an explicit parameter list",
	protocols: []string{"fcgi", "scgi", "http"}, usesBackends: true, template: "nginx.conf.tmpl", program: "nginx",
	syntax: syntaxNginx, fields: fieldList(baseFields, backendFields, webFields),
	check: func(_ context.Context, _ *resolved, text []byte, dir string) ([]string, error) {
		return nil, checkServer(serverconf.Config{Program: serverconf.Nginx, Dir: dir, Site: string(text)})
	}}

// NameVar is Name as part of an nginx variable name, which no quoting can carry: it is
// refused unless it is letters, digits and '_' once '-' is '_'.
func (r *resolved) NameVar() (string, error) {
	v := strings.ReplaceAll(r.Name, "-", "_")
	if v == "" || !only(v, "_") {
		return "", refuse("an nginx variable name", r.Name, "want letters, digits, '-' and '_'")
	}
	return v, nil
}

// CGIParams are the request variables nginx sends, in order, each value an nginx token.
func (r *resolved) CGIParams() ([][2]string, error) {
	var p [][2]string
	if r.Protocol == "scgi" {
		// nginx itself sends CONTENT_LENGTH first, as SCGI requires; a second one is an error.
		p = append(p, [2]string{"SCGI", "1"})
	}
	p = append(p,
		[2]string{"GATEWAY_INTERFACE", "CGI/1.1"},
		[2]string{"SERVER_SOFTWARE", "nginx/$nginx_version"},
		[2]string{"SERVER_PROTOCOL", "$server_protocol"},
		[2]string{"REQUEST_METHOD", "$request_method"},
		[2]string{"REQUEST_SCHEME", "$scheme"},
		[2]string{"REQUEST_URI", "$request_uri"},
		[2]string{"QUERY_STRING", "$query_string"},
		[2]string{"CONTENT_TYPE", "$content_type"},
	)
	if r.Protocol == "fcgi" {
		p = append(p, [2]string{"CONTENT_LENGTH", "$content_length"})
	}
	if r.Prefix != "" {
		prefix, err := configString("an nginx string", r.Prefix, false, nil)
		if err != nil {
			return nil, err
		}
		v, err := r.NameVar()
		if err != nil {
			return nil, err
		}
		p = append(p, [2]string{"SCRIPT_NAME", prefix}, [2]string{"PATH_INFO", "$" + v + "_path_info"})
	} else {
		p = append(p, [2]string{"SCRIPT_NAME", `""`}, [2]string{"PATH_INFO", "$uri"})
	}
	p = append(p,
		[2]string{"DOCUMENT_ROOT", "$document_root"},
		[2]string{"REMOTE_ADDR", "$remote_addr"},
		[2]string{"REMOTE_PORT", "$remote_port"},
		[2]string{"SERVER_ADDR", "$server_addr"},
		[2]string{"SERVER_PORT", "$server_port"},
		[2]string{"SERVER_NAME", "$host"},
		[2]string{"HTTPS", "$https if_not_empty"},
	)
	return p, nil
}
