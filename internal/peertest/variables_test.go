package peertest

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

// captured are the variables TestServerVariables looks at, in docs/variables.md's order.
var captured = []string{"REQUEST_URI", "SCRIPT_NAME", "PATH_INFO", "SCRIPT_URL", "QUERY_STRING", "CONTENT_LENGTH", "HTTP_HOST"}

// variablesURI is the request every server gets: an escaped non-ASCII name, an escaped
// '%', an escaped space, and a query with an escaped '/'.
const variablesURI = prefix + "/caf%C3%A9/100%25/a%20b?q=a+b&r=%2F"

// captureBackend accepts one protocol's connections and hands each request's raw variables
// to got, answering 200; it exists so the test sees what the web server sent before any
// mapping. FastCGI requests are read record by record (FCGI_BEGIN_REQUEST, FCGI_PARAMS
// until empty, FCGI_STDIN until empty), SCGI's as one netstring.
func captureBackend(t *testing.T, proto string, got chan<- map[string]string) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				br := bufio.NewReader(c)
				var vars map[string]string
				if proto == "scgi" {
					vars = readSCGI(br)
					if vars != nil {
						io.WriteString(c, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok")
					}
				} else {
					vars = serveFastCGIOnce(br, c)
				}
				if vars != nil {
					got <- vars
				}
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func readSCGI(br *bufio.Reader) map[string]string {
	n, err := br.ReadString(':')
	if err != nil {
		return nil
	}
	size, err := strconv.Atoi(strings.TrimSuffix(n, ":"))
	if err != nil {
		return nil
	}
	b := make([]byte, size+1)
	if _, err := io.ReadFull(br, b); err != nil {
		return nil
	}
	f := strings.Split(string(b[:size]), "\x00")
	vars := map[string]string{}
	for i := 0; i+1 < len(f); i += 2 {
		vars[f[i]] = f[i+1]
	}
	return vars
}

func serveFastCGIOnce(br *bufio.Reader, w io.Writer) map[string]string {
	var params []byte
	var id uint16
	for {
		var h [8]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return nil
		}
		typ, content, pad := h[1], binary.BigEndian.Uint16(h[4:]), h[6]
		id = binary.BigEndian.Uint16(h[2:])
		body := make([]byte, int(content)+int(pad))
		if _, err := io.ReadFull(br, body); err != nil {
			return nil
		}
		body = body[:content]
		if typ == 4 { // FCGI_PARAMS
			params = append(params, body...)
		}
		if typ == 5 && content == 0 { // the empty FCGI_STDIN: the request is complete
			break
		}
	}
	record := func(typ byte, content []byte) []byte {
		h := []byte{1, typ, byte(id >> 8), byte(id), byte(len(content) >> 8), byte(len(content)), 0, 0}
		return append(h, content...)
	}
	var out []byte
	out = append(out, record(6, []byte("Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok"))...)
	out = append(out, record(6, nil)...)
	out = append(out, record(3, make([]byte, 8))...)
	w.Write(out)
	vars := map[string]string{}
	for len(params) > 0 {
		var lens [2]int
		for i := range lens {
			if params[0]>>7 == 0 {
				lens[i], params = int(params[0]), params[1:]
			} else {
				lens[i], params = int(binary.BigEndian.Uint32(params)&0x7fffffff), params[4:]
			}
		}
		vars[string(params[:lens[0]])] = string(params[lens[0] : lens[0]+lens[1]])
		params = params[lens[0]+lens[1]:]
	}
	return vars
}

// TestServerVariables records what each web server sends for variablesURI, with the site
// `appgen config` writes for it (mounted at /app), and checks it against the table in
// docs/variables.md ("-" means not sent).
func TestServerVariables(t *testing.T) {
	tests := []struct {
		name    string
		program webserver.Program
		proto   string
		site    func(string, int, int, string) (string, error)
		want    []string // in captured's order
	}{
		{"nginx fastcgi_pass", webserver.Nginx, "fcgi", rendered("nginx", "fcgi"),
			[]string{variablesURI, "/app", "/café/100%/a b", "-", "q=a+b&r=%2F", "", "127.0.0.1:PORT"}},
		{"nginx scgi_pass", webserver.Nginx, "scgi", rendered("nginx", "scgi"),
			[]string{variablesURI, "/app", "/café/100%/a b", "-", "q=a+b&r=%2F", "0", "127.0.0.1:PORT"}},
		{"apache mod_proxy_fcgi", webserver.Apache, "fcgi", rendered("apache", "fcgi"),
			[]string{variablesURI, "/app", "/café/100%/a b", "/app/café/100%/a b", "q=a+b&r=%2F", "-", "127.0.0.1:PORT"}},
		{"apache mod_proxy_scgi", webserver.Apache, "scgi", rendered("apache", "scgi"),
			[]string{variablesURI, "/app/café/100%/a b", "-", "/app", "q=a+b&r=%2F", "0", "127.0.0.1:PORT"}},
		{"lighttpd mod_fastcgi", webserver.Lighttpd, "fcgi", rendered("lighttpd", "fcgi"),
			[]string{variablesURI, "/mysite.fcgi", "-", "/app", "q=a+b&r=%2F", "0", "127.0.0.1:PORT"}},
		{"lighttpd mod_scgi", webserver.Lighttpd, "scgi", rendered("lighttpd", "scgi"),
			[]string{variablesURI, "/mysite.scgi", "-", "/app", "q=a+b&r=%2F", "0", "127.0.0.1:PORT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			webserver.Require(t, tt.program)
			got := make(chan map[string]string, 4)
			backend := captureBackend(t, tt.proto, got)
			dir := webserver.TempDir(t)
			web := webserver.FreePort(t)
			site, err := tt.site(dir, web, backend, "")
			if err != nil {
				t.Fatal(err)
			}
			inst := webserver.Start(t, webserver.Config{Program: tt.program, Dir: dir, Port: web, Site: site})
			resp, err := (&http.Client{Timeout: 20 * time.Second}).Get(inst.URL + variablesURI)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			var vars map[string]string
			select {
			case vars = <-got:
			case <-time.After(10 * time.Second):
				t.Fatalf("the backend got no request (status %d)", resp.StatusCode)
			}
			for i, name := range captured {
				v, ok := vars[name]
				if !ok {
					v = "-"
				}
				want := strings.ReplaceAll(tt.want[i], "PORT", strconv.Itoa(web))
				if v != want {
					t.Errorf("%s = %q, want %q", name, v, want)
				}
			}
		})
	}
}
