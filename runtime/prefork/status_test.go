package prefork

import (
	"strings"
	"testing"
)

func TestParseStatus(t *testing.T) {
	tests := []struct {
		line    string
		want    status
		wantErr string
	}{
		{line: "ready", want: status{kind: statusReady}},
		{line: "load 0 0", want: status{kind: statusLoad}},
		{line: "load 3 17", want: status{kind: statusLoad, inflight: 3, served: 17}},
		{line: "drain 5", want: status{kind: statusDrain, served: 5}},
		{line: "", wantErr: "unknown message"},
		{line: "busy 1", wantErr: "unknown message"},
		{line: "ready 1", wantErr: "2 fields, want 1"},
		{line: "load 1", wantErr: "2 fields, want 3"},
		{line: "load  1 2", wantErr: "4 fields, want 3"},
		{line: "load 1 2 ", wantErr: "4 fields, want 3"},
		{line: "drain", wantErr: "1 fields, want 2"},
		{line: "load 01 2", wantErr: `count "01" is not a decimal number`},
		{line: "load -1 2", wantErr: `count "-1" is not a decimal number`},
		{line: "load +1 2", wantErr: `count "+1" is not a decimal number`},
		{line: "drain 1e3", wantErr: `count "1e3" is not a decimal number`},
		{line: "drain 99999999999999999999", wantErr: "out of range"},
		{line: "load 3 2", wantErr: "3 requests in flight of 2 served"},
		{line: "load 1 " + strings.Repeat("1", 60), wantErr: "status line of 67 bytes, want at most 64"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, err := parseStatus(tt.line)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseStatus(%q) = %v, %v; want an error containing %q", tt.line, got, err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "prefork: ") {
					t.Errorf("error %q lacks the package prefix", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseStatus(%q) = %+v, %v; want %+v", tt.line, got, err, tt.want)
			}
			if s := got.String(); s != tt.line {
				t.Errorf("String() = %q, want the line back", s)
			}
		})
	}
}

// FuzzParseStatus checks that whatever a worker writes, the master either
// rejects it or reads exactly the message that formats back to it.
func FuzzParseStatus(f *testing.F) {
	for _, seed := range []string{"ready", "load 0 0", "load 2 10", "drain 7", "load 01 2", "drain -1", "", "load 1 2 3"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		s, err := parseStatus(line)
		if err != nil {
			return
		}
		if got := s.String(); got != line {
			t.Fatalf("parseStatus(%q) = %+v, which formats as %q", line, s, got)
		}
		if s.inflight < 0 || s.served < 0 || s.inflight > s.served {
			t.Fatalf("parseStatus(%q) = %+v: impossible counts", line, s)
		}
	})
}

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		want    [4]int // MinSpare, MaxSpare, MaxChildren, MaxRequests
		wantErr string
	}{
		{name: "zero is Django's defaults", want: [4]int{2, 5, 50, 0}},
		{name: "explicit", cfg: Config{MinSpare: 1, MaxSpare: 2, MaxChildren: 3, MaxRequests: 4}, want: [4]int{1, 2, 3, 4}},
		{name: "min spare raises default max spare", cfg: Config{MinSpare: 7}, want: [4]int{7, 7, 50, 0}},
		{name: "negative", cfg: Config{MaxRequests: -1}, wantErr: "prefork: MaxRequests -1 is negative"},
		{name: "min above max spare", cfg: Config{MinSpare: 3, MaxSpare: 2}, wantErr: "prefork: MinSpare 3 exceeds MaxSpare 2"},
		{name: "min above max children", cfg: Config{MinSpare: 3, MaxChildren: 2}, wantErr: "prefork: MinSpare 3 exceeds MaxChildren 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.withDefaults()
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("withDefaults() error = %v, want one starting %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if have := [4]int{got.MinSpare, got.MaxSpare, got.MaxChildren, got.MaxRequests}; have != tt.want {
				t.Errorf("withDefaults() limits = %v, want %v", have, tt.want)
			}
			if got.ErrorLog == nil {
				t.Error("withDefaults() left ErrorLog nil")
			}
		})
	}
}
