package deploy_test

import (
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/appgen/appgen/deploy"
	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// BenchmarkProxiedRequest measures one GET through each server's generated configuration
// to the same FastCGI app over TCP, one request at a time on a kept-alive client
// connection: the cost each configuration adds, comparable between servers in one run.
func BenchmarkProxiedRequest(b *testing.B) {
	for _, c := range []struct {
		target  string
		program webserver.Program
	}{
		{"nginx", webserver.Nginx},
		{"apache", webserver.Apache},
		{"lighttpd", webserver.Lighttpd},
	} {
		b.Run(c.target, func(b *testing.B) {
			webserver.Require(b, c.program)
			s := newSite(b)
			port := webserver.FreePort(b)
			o := s.options(c.target, port)
			o.Backends = []deploy.Backend{deploy.TCP("127.0.0.1", webserver.FreePort(b))}
			s.runApp(b, "fcgi", o.Backends[0])
			text, err := deploy.Render(o)
			if err != nil {
				b.Fatal(err)
			}
			inst := webserver.Start(b, webserver.Config{Program: c.program, Dir: s.serverDir(b), Port: port, Site: string(text), DocumentRoot: s.docroot})
			client := &http.Client{}
			url := inst.URL + "/bench/" + strconv.Itoa(port)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				resp, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}
