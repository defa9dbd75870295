package reliability

import (
	"bufio"
	"bytes"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestFCGIPairs(t *testing.T) {
	long := strings.Repeat("v", 200)
	tests := []struct {
		name  string
		pairs []string
		want  []byte
	}{
		{"short", []string{"A", "bc"}, []byte{1, 2, 'A', 'b', 'c'}},
		{"4-byte value length", []string{"N", long}, append([]byte{1, 0x80, 0, 0, 200, 'N'}, long...)},
		{"empty value", []string{"E", ""}, []byte{1, 0, 'E'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FCGIPairs(tt.pairs...); !bytes.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFCGIStreamSplitsAndEnds(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 70000)
	b := FCGIStream(FCGIStdin, 3, data)
	var got []byte
	records := 0
	for len(b) > 0 {
		n := int(b[4])<<8 | int(b[5])
		pad := int(b[6])
		if b[0] != 1 || b[1] != FCGIStdin || b[3] != 3 {
			t.Fatalf("record header %v, want version 1, STDIN, id 3", b[:8])
		}
		if (n+pad)%8 != 0 && n != 0 {
			t.Errorf("record of %d bytes padded by %d: not 8-byte aligned", n, pad)
		}
		got = append(got, b[8:8+n]...)
		b = b[8+n+pad:]
		records++
		if n == 0 && len(b) != 0 {
			t.Fatalf("empty record before the end of the stream")
		}
	}
	if !bytes.Equal(got, data) || records != 3 {
		t.Errorf("got %d bytes in %d records, want %d bytes in 3 (two with data, one empty)", len(got), records, len(data))
	}
}

func TestReadFCGIResponse(t *testing.T) {
	out := "Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope"
	var b []byte
	b = append(b, FCGIRecord(1, FCGIStderr, 1, []byte("warning"), -1, 1)...)
	b = append(b, FCGIStream(FCGIStdout, 1, []byte(out))...)
	b = append(b, FCGIRecord(1, FCGIEndRequest, 1, []byte{0, 0, 0, 0, 0, 0, 0, 0}, -1, 0)...)
	resp, err := ReadFCGIResponse(bufio.NewReader(bytes.NewReader(b)), 1)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 404 || string(resp.Body) != "nope" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("got %+v, want 404 text/plain %q", resp, "nope")
	}
}

func TestSCGIRequest(t *testing.T) {
	got := string(SCGIRequest([]byte("hi"), "REQUEST_METHOD", "POST"))
	want := "44:CONTENT_LENGTH\x002\x00SCGI\x001\x00REQUEST_METHOD\x00POST\x00,hi"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestReadAJPResponse(t *testing.T) {
	var b []byte
	headers := []byte{4, 0, 200, 0, 2, 'O', 'K', 0, 0, 2, 0xA0, 0x01, 0, 10}
	headers = append(headers, "text/plain"...)
	headers = append(headers, 0, 0, 3, 'X', '-', 'A', 0, 0, 1, 'b', 0)
	for _, p := range [][]byte{headers, {3, 0, 2, 'h', 'i', 0}, {5, 1}} {
		b = append(b, 'A', 'B', byte(len(p)>>8), byte(len(p)))
		b = append(b, p...)
	}
	resp, err := ReadAJPResponse(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || string(resp.Body) != "hi" || resp.EndStatus != 1 ||
		resp.Header.Get("Content-Type") != "text/plain" || resp.Header.Get("X-A") != "b" {
		t.Errorf("got %+v, want 200 %q reuse=1 with Content-Type and X-A", resp, "hi")
	}
}

func TestParentOf(t *testing.T) {
	tests := []struct {
		stat string
		ppid int
		ok   bool
	}{
		{"123 (app) S 45 123 123 0", 45, true},
		{"123 (a) b) (c) R 7 1", 7, true},
		{"123 app S 45", 0, false},
		{"123 (app)", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.stat, func(t *testing.T) {
			ppid, ok := parentOf(tt.stat)
			if ppid != tt.ppid || ok != tt.ok {
				t.Errorf("got %d %v, want %d %v", ppid, ok, tt.ppid, tt.ok)
			}
		})
	}
}

func TestCPUOf(t *testing.T) {
	// A real line from an idle shell, with a comm that looks like more fields.
	const real = "4242 (a) b (c)) S 1 4240 4240 0 -1 4194560 1234 0 0 0 150 25 0 0 20 0 1 0 100 1000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
	tests := []struct {
		name  string
		stat  string
		cpu   time.Duration
		group int
		ok    bool
	}{
		{"real", real, 1750 * time.Millisecond, 4240, true},
		{"no comm", "4242 S 1 4240", 0, 0, false},
		{"too short", "4242 (sh) S 1 4240 4240 0 -1 4194560 1234 0 0 0", 0, 0, false},
		{"not a number", "4242 (sh) S 1 4240 4240 0 -1 4194560 1234 0 0 0 x 25", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cpu, group, err := cpuOf(tt.stat)
			if (err == nil) != tt.ok || cpu != tt.cpu || group != tt.group {
				t.Errorf("got %v %d %v, want %v %d ok=%v", cpu, group, err, tt.cpu, tt.group, tt.ok)
			}
		})
	}
}

func TestCPUTime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc, which only Linux has")
	}
	// This process's own group: the test binary is in it, and has used some CPU by now.
	pgid := syscall.Getpgrp()
	before, err := CPUTime(pgid)
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the clock ticks show it; a loaded machine may take a while to run us.
	var after time.Duration
	for deadline := time.Now().Add(10 * time.Second); after <= before; {
		if time.Now().After(deadline) {
			t.Fatalf("CPU time stayed at %v over 10 s of spinning, want it to grow", before)
		}
		for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
		}
		if after, err = CPUTime(pgid); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := CPUTime(-1); err == nil {
		t.Error("CPUTime(-1): no error, want one naming the empty group")
	}
}

// The raw clients parse what a server under test sends, which may be anything: they must fail
// cleanly, never panic or loop.

func FuzzReadFCGIResponses(f *testing.F) {
	f.Add(append(FCGIStream(FCGIStdout, 1, []byte("Status: 200\r\n\r\nok")), FCGIRecord(1, FCGIEndRequest, 1, make([]byte, 8), -1, 0)...))
	f.Add(FCGIRecord(1, FCGIEndRequest, 1, make([]byte, 3), -1, 0))
	f.Add([]byte{1, 6, 0, 1, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ReadFCGIResponses(bufio.NewReader(bytes.NewReader(data)), 2)
	})
}

func FuzzReadAJPResponse(f *testing.F) {
	f.Add([]byte{'A', 'B', 0, 2, 5, 1})
	f.Add([]byte{'A', 'B', 0, 9, 4, 0, 200, 0xff, 0xff, 0, 1, 0xA0, 0x01})
	f.Add([]byte{'A', 'B', 0, 3, 3, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ReadAJPResponse(bufio.NewReader(bytes.NewReader(data)))
	})
}

func FuzzParseCGIResponse(f *testing.F) {
	f.Add([]byte("Status: 500 Oops\r\nA: b\r\n\r\nbody"))
	f.Add([]byte("HTTP/1.1 404 Not Found\r\n\r\n"))
	f.Add([]byte("Status: x\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		resp, err := parseCGIResponse(data)
		if err == nil && resp.Header == nil {
			t.Errorf("no error and no header for %q", data)
		}
	})
}

func FuzzParentOf(f *testing.F) {
	f.Add("1 (init) S 0 1 1")
	f.Add("9 ()) Z -1")
	f.Fuzz(func(t *testing.T, stat string) {
		_, _ = parentOf(stat)
		_, _, _ = cpuOf(stat)
	})
}
