package doctest

import (
	"strings"
	"testing"
)

func TestBlocks(t *testing.T) {
	tests := []struct {
		name string
		md   string
		want []Block
	}{
		{"none", "text\n", nil},
		{"one sh block", "a\n```sh\necho 1\n```\n", []Block{{Line: 2, Lang: "sh", Text: "echo 1\n"}}},
		{"info words", "```go title=x\nx\n```\n", []Block{{Line: 1, Lang: "go", Text: "x\n"}}},
		{"longer fence holds a shorter one", "````md\n```sh\n```\n````\n", []Block{{Line: 1, Lang: "md", Text: "```sh\n```\n"}}},
		{"tildes", "~~~\n```\n~~~\n", []Block{{Line: 1, Text: "```\n"}}},
		{"four spaces is code, not a fence", "    ```sh\nx\n", nil},
		{"inline backticks are not a fence", "```a`b\n", nil},
		{"unclosed", "```sh\nx\n", []Block{{Line: 1, Lang: "sh", Text: "x\n"}}},
		{"two", "```sh\na\n```\n\n```console\nb\n```\n", []Block{{Line: 1, Lang: "sh", Text: "a\n"}, {Line: 5, Lang: "console", Text: "b\n"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Blocks(tt.md)
			if len(got) != len(tt.want) {
				t.Fatalf("Blocks = %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("block %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// FuzzBlocks checks what holds for any text: blocks come in order, each starts at a fence
// line, and its text is lines of the input.
func FuzzBlocks(f *testing.F) {
	f.Add("```sh\necho\n```\n")
	f.Add("````\n```\n````\n~~~go\n")
	f.Fuzz(func(t *testing.T, md string) {
		lines := strings.Split(md, "\n")
		last := 0
		for _, b := range Blocks(md) {
			if b.Line <= last || b.Line > len(lines) {
				t.Fatalf("block at line %d after %d, of %d lines", b.Line, last, len(lines))
			}
			if _, _, _, ok := fence(lines[b.Line-1]); !ok {
				t.Fatalf("block at line %d, which is no fence: %q", b.Line, lines[b.Line-1])
			}
			if !strings.Contains(md+"\n", b.Text) {
				t.Fatalf("block text %q is not in the input", b.Text)
			}
			last = b.Line + strings.Count(b.Text, "\n")
		}
	})
}
