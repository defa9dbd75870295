package merge

import (
	"bytes"
	"fmt"
)

// Unified returns the unified diff from a to b with three lines of context, headed
// "--- oldName" and "+++ newName", as `diff -u` writes it; "" when they are equal.
func Unified(oldName, newName string, a, b []byte) string {
	const context = 3
	x, y := Lines(a), Lines(b)
	hunks := Diff(x, y)
	if len(hunks) == 0 {
		return ""
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", oldName, newName)
	for i := 0; i < len(hunks); {
		// Hunks closer than twice the context share one @@ block.
		j := i + 1
		for j < len(hunks) && hunks[j].A0-hunks[j-1].A1 <= 2*context {
			j++
		}
		a0 := max(hunks[i].A0-context, 0)
		b0 := hunks[i].B0 - (hunks[i].A0 - a0)
		a1 := min(hunks[j-1].A1+context, len(x))
		b1 := hunks[j-1].B1 + (a1 - hunks[j-1].A1)
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", span(a0, a1), span(b0, b1))
		pa := a0
		for _, h := range hunks[i:j] {
			for _, l := range x[pa:h.A0] {
				line(&out, ' ', l)
			}
			for _, l := range x[h.A0:h.A1] {
				line(&out, '-', l)
			}
			for _, l := range y[h.B0:h.B1] {
				line(&out, '+', l)
			}
			pa = h.A1
		}
		for _, l := range x[pa:a1] {
			line(&out, ' ', l)
		}
		i = j
	}
	return out.String()
}

// span is a range in a @@ line: "start,count", with diff's special cases for one line
// ("start") and none (the line before, ",0").
func span(from, to int) string {
	switch n := to - from; n {
	case 0:
		return fmt.Sprintf("%d,0", from)
	case 1:
		return fmt.Sprintf("%d", from+1)
	default:
		return fmt.Sprintf("%d,%d", from+1, n)
	}
}

func line(w *bytes.Buffer, op byte, l string) {
	w.WriteByte(op)
	w.WriteString(l)
	if len(l) == 0 || l[len(l)-1] != '\n' {
		w.WriteString("\n\\ No newline at end of file\n")
	}
}
