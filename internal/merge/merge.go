package merge

import (
	"bytes"
	"slices"
)

// Labels name the three versions in conflict markers.
type Labels struct {
	Ours, Base, Theirs string // "" means "ours", "base", "theirs"
}

// Merge3 merges the changes from base to ours and from base to theirs. Changes of one side
// are taken as they are; changes of both sides that overlap or touch in base are a conflict,
// written in diff3 style with the labels, unless both sides made the same change. It returns
// the merged text and the number of conflicts, as `git merge-file -p --diff3` prints and
// counts them.
func Merge3(base, ours, theirs []byte, l Labels) ([]byte, int) {
	if l.Ours == "" {
		l.Ours = "ours"
	}
	if l.Base == "" {
		l.Base = "base"
	}
	if l.Theirs == "" {
		l.Theirs = "theirs"
	}
	o, a, b := Lines(base), Lines(ours), Lines(theirs)
	type side struct {
		Hunk
		theirs bool
	}
	var all []side
	for _, h := range Diff(o, a) {
		all = append(all, side{h, false})
	}
	for _, h := range Diff(o, b) {
		all = append(all, side{h, true})
	}
	slices.SortStableFunc(all, func(x, y side) int { return x.A0 - y.A0 })

	var out bytes.Buffer
	conflicts := 0
	pos := 0       // next base line to copy
	da, db := 0, 0 // ours/theirs line index minus base line index, before the current group
	for i := 0; i < len(all); {
		// A group: hunks whose base ranges overlap or touch, from either side.
		g0, g1 := all[i].A0, all[i].A1
		hasA, hasB := false, false
		j := i
		var endA, endB int // the delta of each side after its last hunk in the group
		endA, endB = da, db
		for ; j < len(all) && all[j].A0 <= g1; j++ {
			h := all[j]
			g1 = max(g1, h.A1)
			if h.theirs {
				hasB = true
				endB = h.B1 - h.A1
			} else {
				hasA = true
				endA = h.B1 - h.A1
			}
		}
		for _, line := range o[pos:g0] {
			out.WriteString(line)
		}
		aLines := a[g0+da : g1+endA]
		bLines := b[g0+db : g1+endB]
		switch {
		case !hasB:
			writeLines(&out, aLines, false)
		case !hasA:
			writeLines(&out, bLines, false)
		case slices.Equal(aLines, bLines):
			writeLines(&out, aLines, false)
		default:
			conflicts++
			out.WriteString("<<<<<<< " + l.Ours + "\n")
			writeLines(&out, aLines, true)
			out.WriteString("||||||| " + l.Base + "\n")
			writeLines(&out, o[g0:g1], true)
			out.WriteString("=======\n")
			writeLines(&out, bLines, true)
			out.WriteString(">>>>>>> " + l.Theirs + "\n")
		}
		pos, da, db, i = g1, endA, endB, j
	}
	for _, line := range o[pos:] {
		out.WriteString(line)
	}
	return out.Bytes(), conflicts
}

// writeLines writes lines; inside a conflict a last line without "\n" gets one, so the
// next marker starts a line.
func writeLines(w *bytes.Buffer, lines []string, inConflict bool) {
	for _, l := range lines {
		w.WriteString(l)
	}
	if inConflict && len(lines) > 0 && lines[len(lines)-1][len(lines[len(lines)-1])-1] != '\n' {
		w.WriteByte('\n')
	}
}

// IsBinary reports whether data is not text to merge: a NUL byte in its first 8000 bytes,
// git's rule.
func IsBinary(data []byte) bool {
	return bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0
}
