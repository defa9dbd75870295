//go:build unix

package runfcgi

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// fcgiConn sends FastCGI requests with FCGI_KEEP_CONN on one connection:
// the way nginx with fastcgi_keep_conn talks to an application.
type fcgiConn struct {
	c   net.Conn
	r   *bufio.Reader
	req []byte
}

func dialFCGI(addr string) (*fcgiConn, error) {
	c, err := net.Dial("unix", addr)
	if err != nil {
		return nil, err
	}
	var params []byte
	for _, kv := range [][2]string{
		{"REQUEST_METHOD", "GET"}, {"SERVER_PROTOCOL", "HTTP/1.1"}, {"REQUEST_URI", "/bench"},
		{"SERVER_NAME", "localhost"}, {"SERVER_PORT", "80"}, {"REMOTE_ADDR", "127.0.0.1"},
	} {
		params = append(params, byte(len(kv[0])), byte(len(kv[1])))
		params = append(params, kv[0]...)
		params = append(params, kv[1]...)
	}
	var req []byte
	req = appendRecord(req, 1, []byte{0, 1, 1, 0, 0, 0, 0, 0}) // BEGIN_REQUEST, responder, keep-conn
	req = appendRecord(req, 4, params)
	req = appendRecord(req, 4, nil)
	req = appendRecord(req, 5, nil)
	return &fcgiConn{c: c, r: bufio.NewReader(c), req: req}, nil
}

func appendRecord(b []byte, typ byte, content []byte) []byte {
	b = append(b, 1, typ, 0, 1, byte(len(content)>>8), byte(len(content)), 0, 0)
	return append(b, content...)
}

// get sends one request and reads records until its END_REQUEST, returning
// the number of STDOUT bytes.
func (f *fcgiConn) get() (int, error) {
	if _, err := f.c.Write(f.req); err != nil {
		return 0, err
	}
	var h [8]byte
	n := 0
	for {
		if _, err := io.ReadFull(f.r, h[:]); err != nil {
			return n, err
		}
		size := int(binary.BigEndian.Uint16(h[4:6])) + int(h[6])
		if _, err := f.r.Discard(size); err != nil {
			return n, err
		}
		switch h[1] {
		case 6: // STDOUT
			n += int(binary.BigEndian.Uint16(h[4:6]))
		case 3: // END_REQUEST
			return n, nil
		}
	}
}

// BenchmarkModels compares the process models on the same handler, over
// keep-alive FastCGI connections on a unix socket: threaded (one process,
// the workpool) against prefork (worker processes), with Go's
// net/http/fcgi in a process of its own as the peer.
func BenchmarkModels(b *testing.B) {
	for _, method := range []string{"threaded", "prefork", "net-http-fcgi"} {
		b.Run(method, func(b *testing.B) {
			dir := b.TempDir()
			sock := filepath.Join(dir, "b.sock")
			cmd := helper(b, dir, "method="+method, "socket="+sock, "daemonize=false", "minspare=2", "maxspare=4", "maxchildren=4")
			if method == "net-http-fcgi" {
				cmd = helper(b, dir, sock)
				cmd.Env = append(cmd.Env, helperEnv+"=peer")
			}
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			defer func() {
				cmd.Process.Signal(syscall.SIGTERM)
				cmd.Wait()
			}()
			// Wait until the socket answers; bounded by the tries.
			var first *fcgiConn
			var err error
			for i := 0; i < 500; i++ {
				if first, err = dialFCGI(sock); err == nil {
					if _, err = first.get(); err == nil {
						break
					}
					first.c.Close()
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err != nil {
				b.Fatalf("server on %s never answered: %v", sock, err)
			}
			first.c.Close()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				f, err := dialFCGI(sock)
				if err != nil {
					b.Error(err)
					return
				}
				defer f.c.Close()
				for pb.Next() {
					if n, err := f.get(); err != nil || n == 0 {
						b.Error(fmt.Errorf("request: %d bytes, %v", n, err))
						return
					}
				}
			})
		})
	}
}
