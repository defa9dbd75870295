package prefork

import (
	"fmt"
	"runtime"
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
		{line: "load 0 0 0 0 0", want: status{kind: statusLoad}},
		{line: "load 3 17 5 2 1", want: status{kind: statusLoad, inflight: 3, served: 17, peak: 5, slow: 2, timeouts: 1}},
		{line: "load 3 17 3 0 0", want: status{kind: statusLoad, inflight: 3, served: 17, peak: 3}},
		{line: "drain 5", want: status{kind: statusDrain, served: 5}},
		{line: "counts 7", want: status{kind: statusCounts, counts: [MaxCounters]int{7}, ncounts: 1}},
		{line: "counts 1 0 3", want: status{kind: statusCounts, counts: [MaxCounters]int{1, 0, 3}, ncounts: 3}},
		{line: "counts", wantErr: "0 counts, want 1 to 24"},
		{line: "counts" + strings.Repeat(" 1", 25), wantErr: "25 counts, want 1 to 24"},
		{line: "counts 1 -2", wantErr: `count "-2" is not a decimal number`},
		{line: "", wantErr: "unknown message"},
		{line: "busy 1", wantErr: "unknown message, want ready, load, drain or counts"},
		{line: "ready 1", wantErr: "2 fields, want 1"},
		{line: "load 1", wantErr: "2 fields, want 6"},
		{line: "load 1 2 2", wantErr: "4 fields, want 6"},
		{line: "load  1 2 2 0 0", wantErr: "7 fields, want 6"},
		{line: "load 1 2 2 0 0 ", wantErr: "7 fields, want 6"},
		{line: "drain", wantErr: "1 fields, want 2"},
		{line: "load 01 2 2 0 0", wantErr: `count "01" is not a decimal number`},
		{line: "load -1 2 2 0 0", wantErr: `count "-1" is not a decimal number`},
		{line: "load +1 2 2 0 0", wantErr: `count "+1" is not a decimal number`},
		{line: "drain 1e3", wantErr: `count "1e3" is not a decimal number`},
		{line: "drain 99999999999999999999", wantErr: "out of range"},
		{line: "load 3 2 3 0 0", wantErr: "in flight 3, served 2, peak 3"},
		{line: "load 3 9 2 0 0", wantErr: "in flight 3, served 9, peak 2"},
		{line: "load 1 " + strings.Repeat("1", 508), wantErr: "status line of 515 bytes, want at most 512"},
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
	for _, seed := range []string{"ready", "load 0 0 0 0 0", "load 2 10 4 1 0", "drain 7", "load 01 2 2 0 0", "drain -1", "", "load 1 2 2", "load 3 2 1 0 0"} {
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
		if s.inflight < 0 || s.inflight > s.peak || s.peak > s.served {
			t.Fatalf("parseStatus(%q) = %+v: impossible counts", line, s)
		}
	})
}

func TestConfigDefaults(t *testing.T) {
	cores := runtime.GOMAXPROCS(0)
	tests := []struct {
		name    string
		cfg     Config
		want    [5]int // MinSpare, MaxSpare, MaxChildren, MaxRequests, Concurrency
		wantErr string
	}{
		// The defaults follow the cores (GOMAXPROCS), whatever this machine has.
		{name: "zero follows the cores", want: [5]int{cores, cores, 2 * cores, 0, DefaultConcurrency}},
		{name: "explicit", cfg: Config{MinSpare: 1, MaxSpare: 2, MaxChildren: 3, MaxRequests: 4, Concurrency: 5}, want: [5]int{1, 2, 3, 4, 5}},
		{name: "min spare raises default max spare and children", cfg: Config{MinSpare: 2*cores + 1}, want: [5]int{2*cores + 1, 2*cores + 1, 2*cores + 1, 0, DefaultConcurrency}},
		{name: "max children caps the default spares", cfg: Config{MaxChildren: 1}, want: [5]int{1, 1, 1, 0, DefaultConcurrency}},
		{name: "Django's explicit defaults", cfg: Config{MinSpare: 2, MaxSpare: 5, MaxChildren: 50}, want: [5]int{2, 5, 50, 0, DefaultConcurrency}},
		{name: "negative concurrency", cfg: Config{Concurrency: -1}, wantErr: "prefork: Concurrency -1 is negative"},
		{name: "negative", cfg: Config{MaxRequests: -1}, wantErr: "prefork: MaxRequests -1 is negative"},
		{name: "min above max spare", cfg: Config{MinSpare: 3, MaxSpare: 2}, wantErr: "prefork: MinSpare 3 exceeds MaxSpare 2"},
		{name: "min above max children", cfg: Config{MinSpare: 3, MaxChildren: 2}, wantErr: "prefork: MinSpare 3 exceeds MaxChildren 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.WithDefaults()
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("WithDefaults() error = %v, want one starting %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if have := [5]int{got.MinSpare, got.MaxSpare, got.MaxChildren, got.MaxRequests, got.Concurrency}; have != tt.want {
				t.Errorf("WithDefaults() limits = %v, want %v", have, tt.want)
			}
			if got.ErrorLog == nil {
				t.Error("WithDefaults() left ErrorLog nil")
			}
		})
	}
}

func TestWorkerProcs(t *testing.T) {
	tests := []struct{ cores, minSpare, want int }{
		{2, 2, 1}, {8, 2, 4}, {8, 3, 2}, {1, 4, 1}, {4, 0, 4}, {16, 16, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d cores %d workers", tt.cores, tt.minSpare), func(t *testing.T) {
			if got := workerProcs(tt.cores, tt.minSpare); got != tt.want {
				t.Errorf("workerProcs(%d, %d) = %d, want %d", tt.cores, tt.minSpare, got, tt.want)
			}
		})
	}
}

func TestWorkerGOGC(t *testing.T) {
	tests := []struct{ minSpare, want int }{{0, 100}, {1, 100}, {2, 50}, {3, 33}, {4, 25}, {16, 25}}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d workers", tt.minSpare), func(t *testing.T) {
			if got := workerGOGC(tt.minSpare); got != tt.want {
				t.Errorf("workerGOGC(%d) = %d, want %d", tt.minSpare, got, tt.want)
			}
		})
	}
}

func TestParseStatm(t *testing.T) {
	tests := []struct {
		name, line string
		want       int64
		wantErr    string
	}{
		{"linux", "10986 2390 1605 451 0 1541 0\n", 2390 * 4096, ""},
		{"two fields", "1 0", 0, ""},
		{"one field", "10986", 0, "want at least 2 fields"},
		{"not a number", "1 x 3", 0, `resident pages "x"`},
		{"negative", "1 -2 3", 0, `resident pages "-2"`},
		{"overflow", "1 9223372036854775807 3", 0, "is not a count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatm(tt.line, 4096)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "prefork: ") {
					t.Fatalf("parseStatm(%q) = %d, %v; want an error containing %q", tt.line, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseStatm(%q) = %d, %v; want %d", tt.line, got, err, tt.want)
			}
		})
	}
}

// FuzzParseStatm: whatever /proc says, parseStatm returns an error or a
// non-negative size.
func FuzzParseStatm(f *testing.F) {
	for _, seed := range []string{"10986 2390 1605 451 0 1541 0\n", "1", "1 -1", "1 9223372036854775807"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if n, err := parseStatm(line, 4096); err == nil && n < 0 {
			t.Fatalf("parseStatm(%q) = %d", line, n)
		}
	})
}

func TestWorkerMaxRequests(t *testing.T) {
	tests := []struct {
		name        string
		cfg         Config
		roll        int // what the random source returns
		want, wantN int // result, and the n the random source is asked for (0: not asked)
	}{
		{"no jitter", Config{MaxRequests: 100}, 7, 100, 0},
		{"no limit ignores jitter", Config{MaxRequestsJitter: 10}, 7, 0, 0},
		{"jitter added", Config{MaxRequests: 100, MaxRequestsJitter: 10}, 7, 107, 11},
		{"jitter can be 0", Config{MaxRequests: 100, MaxRequestsJitter: 10}, 0, 100, 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asked := 0
			got := workerMaxRequests(tt.cfg, func(n int) int { asked = n; return tt.roll })
			if got != tt.want || asked != tt.wantN {
				t.Errorf("workerMaxRequests = %d (asked rand for %d), want %d (asked for %d)", got, asked, tt.want, tt.wantN)
			}
		})
	}
}
