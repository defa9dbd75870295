package scgi

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/appgen/appgen/runtime/internal/gateway"
)

// netstring builds an SCGI header from name, value pairs, as nginx does.
func netstring(pairs ...string) string {
	var b strings.Builder
	for _, p := range pairs {
		b.WriteString(p)
		b.WriteByte(0)
	}
	return strconv.Itoa(b.Len()) + ":" + b.String() + ","
}

// ps builds params from name, value pairs.
func ps(pairs ...string) []gateway.Param {
	var p []gateway.Param
	for i := 0; i < len(pairs); i += 2 {
		p = append(p, gateway.Param{Name: pairs[i], Value: pairs[i+1]})
	}
	return p
}

func TestReadHeader(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		max    int
		params []gateway.Param
		length int64
		err    string // "" means success; io.EOF spelled "EOF"
	}{
		{
			name:   "minimal",
			in:     netstring("CONTENT_LENGTH", "0", "SCGI", "1"),
			params: ps("CONTENT_LENGTH", "0", "SCGI", "1"),
		},
		{
			name: "spec example",
			in: netstring("CONTENT_LENGTH", "27", "SCGI", "1", "REQUEST_METHOD", "POST", "REQUEST_URI", "/deepthought") +
				"What is the answer to life?",
			params: ps("CONTENT_LENGTH", "27", "SCGI", "1", "REQUEST_METHOD", "POST", "REQUEST_URI", "/deepthought"),
			length: 27,
		},
		{
			name:   "no CONTENT_LENGTH: a body of unknown length",
			in:     netstring("SCGI", "1", "REQUEST_METHOD", "POST"),
			params: ps("SCGI", "1", "REQUEST_METHOD", "POST"),
			length: -1,
		},
		{
			name:   "empty values",
			in:     netstring("CONTENT_LENGTH", "0", "SCGI", "1", "QUERY_STRING", "", "HTTP_X", ""),
			params: ps("CONTENT_LENGTH", "0", "SCGI", "1", "QUERY_STRING", "", "HTTP_X", ""),
		},
		{name: "closed before anything", in: "", err: "EOF"},
		{name: "leading zero", in: "0012:CONTENT_LENGTH\x000\x00,", err: `netstring length "0012" has a leading zero`},
		{name: "zero length", in: "0:,", err: "header is empty"},
		{name: "empty length", in: ":abc,", err: "netstring length is empty"},
		{name: "not a digit", in: "12a:", err: `netstring length "12" followed by 'a'`},
		{name: "HTTP instead", in: "GET / HTTP/1.1\r\n", err: `netstring length "" followed by 'G'`},
		{name: "over the limit", in: "70000:", max: 65536, err: "netstring length 70000 exceeds limit 65536"},
		{name: "endless digits", in: strings.Repeat("9", 30), max: 65536, err: `netstring length "9999999999"… exceeds limit 65536`},
		{name: "closed inside the length", in: "12", err: `connection closed inside the netstring length "12"`},
		{name: "closed inside the header", in: "40:CONTENT_LENGTH\x00", err: "connection closed inside a 40-byte header"},
		{name: "no comma", in: strings.TrimSuffix(netstring("CONTENT_LENGTH", "0", "SCGI", "1"), ",") + ";", err: "ends with ';', want ','"},
		{name: "closed before the comma", in: strings.TrimSuffix(netstring("CONTENT_LENGTH", "0", "SCGI", "1"), ","), err: "before the netstring's ','"},
		{name: "no final NUL", in: "23:CONTENT_LENGTH\x000\x00SCGI\x001,", err: "does not end with NUL"},
		{name: "odd strings", in: netstring("CONTENT_LENGTH", "0", "SCGI"), err: "3 NUL-terminated strings"},
		{name: "CONTENT_LENGTH not first", in: netstring("SCGI", "1", "CONTENT_LENGTH", "0"), err: `CONTENT_LENGTH is header 2, want it first`},
		{name: "CONTENT_LENGTH empty", in: netstring("CONTENT_LENGTH", "", "SCGI", "1"), err: `CONTENT_LENGTH ""`},
		{name: "CONTENT_LENGTH signed", in: netstring("CONTENT_LENGTH", "+5", "SCGI", "1"), err: `CONTENT_LENGTH "+5"`},
		{name: "CONTENT_LENGTH negative", in: netstring("CONTENT_LENGTH", "-1", "SCGI", "1"), err: `CONTENT_LENGTH "-1"`},
		{name: "CONTENT_LENGTH leading zero", in: netstring("CONTENT_LENGTH", "05", "SCGI", "1"), err: `CONTENT_LENGTH "05"`},
		{name: "CONTENT_LENGTH huge", in: netstring("CONTENT_LENGTH", "99999999999999999999", "SCGI", "1"), err: "CONTENT_LENGTH"},
		{name: "SCGI missing", in: netstring("CONTENT_LENGTH", "0", "REQUEST_METHOD", "GET"), err: "SCGI is missing"},
		{name: "SCGI=2", in: netstring("CONTENT_LENGTH", "0", "SCGI", "2"), err: `SCGI is "2", want "1"`},
		{name: "duplicate name", in: netstring("CONTENT_LENGTH", "0", "SCGI", "1", "HTTP_HOST", "a", "HTTP_HOST", "b"), err: `"HTTP_HOST" appears twice`},
		{name: "duplicate CONTENT_LENGTH", in: netstring("CONTENT_LENGTH", "0", "SCGI", "1", "CONTENT_LENGTH", "5"), err: `"CONTENT_LENGTH" appears twice`},
		{
			name: "duplicate among many",
			in: func() string {
				p := []string{"CONTENT_LENGTH", "0", "SCGI", "1"}
				for i := 0; i < 200; i++ {
					p = append(p, "HTTP_X_"+strconv.Itoa(i), "v")
				}
				return netstring(append(p, "HTTP_X_7", "again")...)
			}(),
			err: `"HTTP_X_7" appears twice`,
		},
		{name: "empty name", in: netstring("CONTENT_LENGTH", "0", "SCGI", "1", "", "x"), err: "header name 3 is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			max := tt.max
			if max == 0 {
				max = DefaultMaxHeaderBytes
			}
			params, length, err := readHeader(bufio.NewReader(strings.NewReader(tt.in)), max)
			if tt.err != "" {
				if tt.err == "EOF" {
					if err != io.EOF {
						t.Fatalf("error %v, want io.EOF", err)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "scgi: ") {
					t.Fatalf("error %v, want one starting scgi: and containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if length != tt.length {
				t.Errorf("CONTENT_LENGTH %d, want %d", length, tt.length)
			}
			if len(params) != len(tt.params) {
				t.Fatalf("params %q, want %q", params, tt.params)
			}
			for i := range params {
				if params[i] != tt.params[i] {
					t.Errorf("param %d = %q, want %q", i, params[i], tt.params[i])
				}
			}
		})
	}
}

func TestReadHeaderStopsAtComma(t *testing.T) {
	// The body follows the comma; the header reader must not consume it.
	r := bufio.NewReader(strings.NewReader(netstring("CONTENT_LENGTH", "4", "SCGI", "1") + "body"))
	if _, _, err := readHeader(r, DefaultMaxHeaderBytes); err != nil {
		t.Fatal(err)
	}
	if rest, _ := io.ReadAll(r); string(rest) != "body" {
		t.Errorf("after the header: %q, want \"body\"", rest)
	}
}

func FuzzReadHeader(f *testing.F) {
	f.Add(netstring("CONTENT_LENGTH", "27", "SCGI", "1", "REQUEST_METHOD", "POST", "REQUEST_URI", "/deepthought"))
	f.Add(netstring("CONTENT_LENGTH", "0", "SCGI", "1"))
	f.Add("0012:CONTENT_LENGTH\x000\x00,")
	f.Add("3:a\x00\x00,")
	f.Add(netstring("CONTENT_LENGTH", "0", "SCGI", "1", "HTTP_HOST", "a", "HTTP_HOST", "b"))
	f.Add(netstring("SCGI", "1", "REQUEST_METHOD", "POST"))
	f.Fuzz(func(t *testing.T, in string) {
		const max = 4096
		params, length, err := readHeader(bufio.NewReader(strings.NewReader(in)), max)
		if err != nil {
			if err != io.EOF && !strings.HasPrefix(err.Error(), "scgi: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			if errors.Is(err, io.EOF) && in != "" {
				t.Fatalf("io.EOF for non-empty input %q", in)
			}
			return
		}
		// Whatever was accepted keeps every rule.
		// CONTENT_LENGTH, when there is one, is first and gives the length;
		// without it the length is unknown (-1).
		hasLength := len(params) > 0 && params[0].Name == "CONTENT_LENGTH"
		if len(params) < 1 || hasLength && length < 0 || !hasLength && length != -1 {
			t.Fatalf("accepted %q: params %q, length %d", in, params, length)
		}
		for _, p := range params[1:] {
			if p.Name == "CONTENT_LENGTH" {
				t.Fatalf("accepted %q: CONTENT_LENGTH not first", in)
			}
		}
		seen := map[string]bool{}
		scgi := false
		for _, p := range params {
			if p.Name == "" || seen[p.Name] || strings.IndexByte(p.Name, 0) >= 0 || strings.IndexByte(p.Value, 0) >= 0 {
				t.Fatalf("accepted %q: bad param %q", in, p)
			}
			seen[p.Name] = true
			scgi = scgi || p.Name == "SCGI" && p.Value == "1"
		}
		if !scgi {
			t.Fatalf("accepted %q without SCGI=1", in)
		}
		colon := strings.IndexByte(in, ':')
		if n, _ := strconv.Atoi(in[:colon]); n > max || in[0] == '0' {
			t.Fatalf("accepted %q: length over the limit or with a leading zero", in)
		}
	})
}
