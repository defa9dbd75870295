package ajp

import (
	"net/http"
	"testing"
)

// BenchmarkResponse measures a response alone, its packets appended to
// the connection's output but never written, so a change to its
// bookkeeping shows above the noise of sockets. benchHandler is the page
// BenchmarkServe serves; "sniffed" sets no Content-Type.
func BenchmarkResponse(b *testing.B) {
	html := []byte("<!DOCTYPE html><title>Hello</title><p>Hello, world!\n")
	b.Run("small", func(b *testing.B) { benchResponse(b, benchHandler) })
	b.Run("sniffed", func(b *testing.B) {
		benchResponse(b, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(html) }))
	})
}

func benchResponse(b *testing.B, h http.Handler) {
	ps := DefaultPacketSize
	c := &conn{srv: &Server{}, packetSize: ps, out: make([]byte, 0, 2*ps),
		fields: make([]byte, 0, 512), buf: make([]byte, 0, ps-bodyChunkOverhead)}
	r, err := http.NewRequest(http.MethodGet, "/", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w := c.newResponse(false)
		h.ServeHTTP(w, r)
		w.finish()
		w.release()
		if c.broken || len(c.out) == 0 {
			b.Fatalf("response not appended (broken %v: %v)", c.broken, c.reason)
		}
		c.out = c.out[:0]
	}
}
