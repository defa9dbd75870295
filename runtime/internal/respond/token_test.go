package respond

import (
	"strings"
	"testing"
)

func TestIsToken(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"GET", true},
		{"X-Forwarded-For", true},
		{"!#$%&'*+-.^_`|~09azAZ", true},
		{"", false},
		{"Bad Name", false},
		{"Tab\tName", false},
		{"Colon:", false},
		{"Caf\u00e9", false},
		{"DEL\x7f", false},
		{"NUL\x00", false},
	}
	for _, tt := range tests {
		if got := IsToken(tt.s); got != tt.want {
			t.Errorf("IsToken(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
	// Every byte alone, against RFC 9110's definition written out.
	for c := 0; c < 256; c++ {
		want := c > ' ' && c < 0x7f && !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, rune(c))
		if got := IsToken(string([]byte{byte(c)})); got != want {
			t.Errorf("IsToken(%q) = %v, want %v", byte(c), got, want)
		}
	}
}
