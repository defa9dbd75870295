package doctest

import "strings"

// Block is one fenced code block of a Markdown file.
type Block struct {
	// Line is the 1-based line of the opening fence.
	Line int
	// Lang is the info string's first word ("sh", "console", "go"); "" for none.
	Lang string
	// Text is the block's content, every line ending in a newline.
	Text string
}

// First is the block's first non-blank line, trimmed: how the coverage tables name a block.
func (b Block) First() string {
	for _, l := range strings.Split(b.Text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// Blocks returns the fenced code blocks of a Markdown text, in order. A fence is a line
// starting with three or more backticks (or tildes), indented at most three spaces; the block
// ends at a line of the same character at least as long, as CommonMark says. An unclosed
// block runs to the end of the text.
func Blocks(md string) []Block {
	var out []Block
	lines := strings.Split(strings.TrimSuffix(md, "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		ch, n, info, ok := fence(lines[i])
		if !ok {
			continue
		}
		b := Block{Line: i + 1}
		if f := strings.Fields(info); len(f) > 0 {
			b.Lang = f[0]
		}
		var text strings.Builder
		for i++; i < len(lines); i++ {
			if c, m, rest, ok := fence(lines[i]); ok && c == ch && m >= n && strings.TrimSpace(rest) == "" {
				break
			}
			text.WriteString(lines[i])
			text.WriteByte('\n')
		}
		b.Text = text.String()
		out = append(out, b)
	}
	return out
}

// fence reports whether line opens or closes a fence: its character, length and info string.
func fence(line string) (ch byte, n int, info string, ok bool) {
	indent := len(line) - len(strings.TrimLeft(line, " "))
	if indent > 3 {
		return 0, 0, "", false
	}
	line = line[indent:]
	if line == "" || (line[0] != '`' && line[0] != '~') {
		return 0, 0, "", false
	}
	ch = line[0]
	for n < len(line) && line[n] == ch {
		n++
	}
	if n < 3 || (ch == '`' && strings.IndexByte(line[n:], '`') >= 0) {
		return 0, 0, "", false
	}
	return ch, n, line[n:], true
}
