package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
)

// Record types and flags from the FastCGI 1.0 specification; only those this responder reads or
// writes.
const (
	typeBeginRequest = 1
	typeEndRequest   = 3
	typeParams       = 4
	typeStdin        = 5
	typeStdout       = 6
	flagKeepConn     = 1
	headerLen        = 8
)

// Body is what every benchmark backend answers, so the canned responder and the real servers move
// the same bytes.
const Body = "Hello, world!\n"

func main() {
	listen := flag.String("listen", "127.0.0.1:9001", "TCP address to listen on")
	flag.Parse()
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("canned: %v", err)
	}
	rep := cannedReply(Body)
	for {
		c, err := l.Accept()
		if err != nil {
			log.Fatalf("canned: accept: %v", err)
		}
		go func() {
			if err := serve(c, rep); err != nil && !errors.Is(err, io.EOF) {
				fmt.Fprintf(os.Stderr, "canned: %s: %v\n", c.RemoteAddr(), err)
			}
		}()
	}
}

// reply is the whole answer to one request (STDOUT, empty STDOUT, END_REQUEST), built once; only
// the request ID changes per request, at the offsets in ids.
type reply struct {
	b   []byte
	ids [3]int
}

func cannedReply(body string) reply {
	out := "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
	var r reply
	r.ids[0] = len(r.b) + 2
	r.b = appendHeader(r.b, typeStdout, len(out))
	r.b = append(r.b, out...)
	r.ids[1] = len(r.b) + 2
	r.b = appendHeader(r.b, typeStdout, 0)
	r.ids[2] = len(r.b) + 2
	r.b = appendHeader(r.b, typeEndRequest, 8)
	r.b = append(r.b, 0, 0, 0, 0, 0, 0, 0, 0) // appStatus 0, FCGI_REQUEST_COMPLETE
	return r
}

func appendHeader(b []byte, typ uint8, n int) []byte {
	return append(b, 1, typ, 0, 0, byte(n>>8), byte(n), 0, 0)
}

// serve answers each request once its STDIN stream ends. Replies are buffered and flushed only
// when no more input is already waiting, so a pipelining peer gets one write for many replies.
func serve(c net.Conn, rep reply) error {
	defer c.Close()
	r := bufio.NewReaderSize(c, 16<<10)
	w := bufio.NewWriterSize(c, 16<<10)
	keep := map[uint16]bool{}
	var hdr [headerLen]byte
	content := make([]byte, 0, 1<<16)
	buf := make([]byte, len(rep.b))
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return err
		}
		if hdr[0] != 1 {
			return fmt.Errorf("record version %d, want 1", hdr[0])
		}
		id := binary.BigEndian.Uint16(hdr[2:4])
		n := int(binary.BigEndian.Uint16(hdr[4:6])) + int(hdr[6])
		content = content[:n]
		if _, err := io.ReadFull(r, content); err != nil {
			return err
		}
		switch hdr[1] {
		case typeBeginRequest:
			if n < 8 || binary.BigEndian.Uint16(content[0:2]) != 1 {
				return fmt.Errorf("request %d: not a responder BEGIN_REQUEST", id)
			}
			keep[id] = content[2]&flagKeepConn != 0
		case typeParams:
		case typeStdin:
			if binary.BigEndian.Uint16(hdr[4:6]) != 0 {
				continue
			}
			k, ok := keep[id]
			if !ok {
				return fmt.Errorf("STDIN for request %d, which never began", id)
			}
			delete(keep, id)
			copy(buf, rep.b)
			for _, off := range rep.ids {
				binary.BigEndian.PutUint16(buf[off:off+2], id)
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
			if !k {
				return w.Flush()
			}
			if r.Buffered() == 0 {
				if err := w.Flush(); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("record type %d not handled", hdr[1])
		}
	}
}
