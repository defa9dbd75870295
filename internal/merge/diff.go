package merge

import "bytes"

// MaxEdits bounds the edit distance Myers' algorithm searches: memory grows with its square.
// Two files further apart are diffed as one change of everything between their common first
// and last lines.
const MaxEdits = 2000

// Lines splits data into lines, each with its "\n" except perhaps the last.
func Lines(data []byte) []string {
	var lines []string
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			lines = append(lines, string(data))
			break
		}
		lines = append(lines, string(data[:i+1]))
		data = data[i+1:]
	}
	return lines
}

// Hunk is one change: a's lines [A0, A1) become b's lines [B0, B1).
type Hunk struct {
	A0, A1, B0, B1 int
}

// Diff returns the changes that turn a into b, in order, none adjacent to another.
func Diff(a, b []string) []Hunk {
	ids := map[string]int{}
	intern := func(lines []string) []int {
		out := make([]int, len(lines))
		for i, l := range lines {
			id, ok := ids[l]
			if !ok {
				id = len(ids)
				ids[l] = id
			}
			out[i] = id
		}
		return out
	}
	x, y := intern(a), intern(b)
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	mx, my := x[pre:len(x)-suf], y[pre:len(y)-suf]
	matches, ok := myers(mx, my)
	var hunks []Hunk
	if !ok {
		if len(mx) > 0 || len(my) > 0 {
			hunks = []Hunk{{pre, pre + len(mx), pre, pre + len(my)}}
		}
		return hunks
	}
	i, j := 0, 0
	for _, m := range append(matches, [2]int{len(mx), len(my)}) {
		if m[0] > i || m[1] > j {
			hunks = append(hunks, Hunk{pre + i, pre + m[0], pre + j, pre + m[1]})
		}
		i, j = m[0]+1, m[1]+1
	}
	return slide(x, y, hunks)
}

// myers returns the matched index pairs of a shortest edit script from a to b, in order,
// or false when the edit distance exceeds MaxEdits.
func myers(a, b []int) ([][2]int, bool) {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return nil, true
	}
	max := n + m
	// trace[d] holds V after round d for diagonals -d..d, at index k+d.
	var trace [][]int
	get := func(v []int, d, k int) int {
		if k < -d || k > d {
			return -1
		}
		return v[k+d]
	}
	prev := []int{}
	for d := 0; d <= max; d++ {
		if d > MaxEdits {
			return nil, false
		}
		v := make([]int, 2*d+1)
		for k := -d; k <= d; k += 2 {
			var x int
			if d == 0 {
				x = 0
			} else if k == -d || (k != d && get(prev, d-1, k-1) < get(prev, d-1, k+1)) {
				x = get(prev, d-1, k+1)
			} else {
				x = get(prev, d-1, k-1) + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[k+d] = x
			if x >= n && y >= m {
				trace = append(trace, v)
				return backtrack(trace, n, m, get), true
			}
		}
		trace = append(trace, v)
		prev = v
	}
	return nil, false
}

func backtrack(trace [][]int, n, m int, get func([]int, int, int) int) [][2]int {
	var rev [][2]int
	x, y := n, m
	for d := len(trace) - 1; d > 0; d-- {
		prev := trace[d-1]
		k := x - y
		var pk int
		if k == -d || (k != d && get(prev, d-1, k-1) < get(prev, d-1, k+1)) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := get(prev, d-1, pk)
		py := px - pk
		// The snake after the edit: from the edit's end to (x, y).
		ex, ey := px, py+1
		if pk == k-1 {
			ex, ey = px+1, py
		}
		for x > ex && y > ey {
			x--
			y--
			rev = append(rev, [2]int{x, y})
		}
		x, y = px, py
	}
	for x > 0 && y > 0 {
		x--
		y--
		rev = append(rev, [2]int{x, y})
	}
	out := make([][2]int, len(rev))
	for i, p := range rev {
		out[len(rev)-1-i] = p
	}
	return out
}

// slide places each pure insertion or deletion where git's diff does (xdiff's change
// compaction): among the positions the lines allow it to slide to, one where it meets a
// neighbouring change with lines on the other side (so the two read as one replacement),
// the lowest such; otherwise the lowest position ("a\nb\na\n" → "a\n": the last two lines
// go, not the first two). Hunks that end up adjacent are merged.
func slide(a, b []int, hunks []Hunk) []Hunk {
	for i := range hunks {
		h := &hunks[i]
		if h.A0 != h.A1 && h.B0 != h.B1 {
			continue
		}
		// The side whose lines the hunk holds, and its neighbours' bounds on that side.
		lines, lo, hi := a, h.A0, h.A1
		if h.A0 == h.A1 {
			lines, lo, hi = b, h.B0, h.B1
		}
		prevEnd, nextStart := 0, len(lines)
		prevOther, nextOther := false, false
		if i > 0 {
			p := hunks[i-1]
			prevEnd, prevOther = p.A1, p.B0 != p.B1
			if h.A0 == h.A1 {
				prevEnd, prevOther = p.B1, p.A0 != p.A1
			}
		}
		if i+1 < len(hunks) {
			n := hunks[i+1]
			nextStart, nextOther = n.A0, n.B0 != n.B1
			if h.A0 == h.A1 {
				nextStart, nextOther = n.B0, n.A0 != n.A1
			}
		}
		up := 0
		for lo-up-1 >= prevEnd && lines[lo-up-1] == lines[hi-up-1] {
			up++
		}
		down := 0
		for hi+down < nextStart && lines[lo+down] == lines[hi+down] {
			down++
		}
		shift := down
		if !(hi+down == nextStart && nextOther) && lo-up == prevEnd && prevOther && i > 0 {
			shift = -up
		}
		h.A0 += shift
		h.A1 += shift
		h.B0 += shift
		h.B1 += shift
	}
	out := hunks[:0]
	for _, h := range hunks {
		if n := len(out); n > 0 && out[n-1].A1 == h.A0 && out[n-1].B1 == h.B0 {
			out[n-1].A1, out[n-1].B1 = h.A1, h.B1
			continue
		}
		out = append(out, h)
	}
	return out
}
