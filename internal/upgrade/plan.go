package upgrade

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/appgen/appgen/generator"
	"github.com/appgen/appgen/internal/merge"
	"golang.org/x/mod/modfile"
)

// Action is what an upgrade does to one file.
type Action string

// The actions, as `appgen upgrade` prints them.
const (
	Unchanged Action = ""         // nothing changed anywhere: no line
	Updated   Action = "updated"  // the user had not changed it: the new version replaces it
	Merged    Action = "merged"   // both changed it, apart: merged without conflict
	Conflict  Action = "conflict" // both changed the same lines (markers written), or a binary file
	Added     Action = "added"    // new in the template
	Removed   Action = "removed"  // dropped by the template, unchanged by the user
	Kept      Action = "kept"     // the user's version stays (see Note)
)

// Step is the plan for one file.
type Step struct {
	Path   string
	Action Action
	Note   string // why a file is kept or in conflict
	// Write says to write Data (Mode before the umask) to Path; Remove to remove Path.
	Write, Remove bool
	Data          []byte
	Executable    bool
	// New is what the next manifest records as generated for Path (theirs); nil when the
	// template no longer has the file.
	New []byte
}

// Ours reads a project file as it is now: its content and whether it exists.
type Ours func(path string) ([]byte, bool, error)

// Plan decides, per file, what an upgrade does, from base (what was generated), ours (the
// project now) and theirs (the new rendering), the files listed in vendor/ and go.sum
// excepted (they follow the runtime version, see generator.Vendor):
//
//   - in base and theirs: unchanged by the user, it takes theirs (updated); changed by the
//     user only, it stays (kept); changed by both, it is merged line by line (merged, or
//     conflict with diff3 markers); a binary file changed by both stays as the user has it
//     (conflict); deleted by the user, it stays deleted (kept) unless the template changed
//     it (conflict, nothing written).
//   - only in theirs: added, unless the user has a file there: the same one is kept, another
//     is merged with an empty base (a conflict unless a side is empty).
//   - only in base: removed if the user left it as generated, else kept.
//
// go.mod's require of the runtime is set to theirs' version in base and ours before the
// comparison, so the version moves without a conflict whatever else the user changed.
func Plan(base map[string][]byte, ours Ours, theirs []generator.File) ([]Step, error) {
	newFiles := map[string]generator.File{}
	for _, f := range theirs {
		if !Managed(f.Path) {
			newFiles[f.Path] = f
		}
	}
	paths := make([]string, 0, len(base)+len(newFiles))
	for p := range base {
		paths = append(paths, p)
	}
	for p := range newFiles {
		if _, ok := base[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	var steps []Step
	for _, p := range paths {
		b, inBase := base[p]
		t, inTheirs := newFiles[p]
		o, exists, err := ours(p)
		if err != nil {
			return nil, err
		}
		moved := false // go.mod's runtime require changed in ours, which must then be written
		if p == "go.mod" && inTheirs && exists {
			if v := runtimeRequire(t.Data); v != "" {
				b = setRuntimeRequire(b, v)
				no := setRuntimeRequire(o, v)
				moved, o = !bytes.Equal(no, o), no
			}
		}
		s := Step{Path: p, Executable: t.Mode&0o111 != 0}
		if inTheirs {
			s.New = t.Data
		}
		switch {
		case inBase && inTheirs:
			plan3(&s, b, o, t.Data, exists)
		case inTheirs: // new in the template
			switch {
			case !exists:
				s.Action, s.Write, s.Data = Added, true, t.Data
			case bytes.Equal(o, t.Data):
				s.Action, s.Note = Kept, "you had already added the same file"
			default:
				plan3(&s, nil, o, t.Data, true)
				if s.Action == Conflict {
					s.Note = "new in the template, and you have your own " + s.Path
				}
			}
		default: // dropped by the template
			switch {
			case !exists:
			case bytes.Equal(o, b):
				s.Action, s.Remove = Removed, true
			default:
				s.Action, s.Note = Kept, "the template dropped it; you changed it"
			}
		}
		if moved && !s.Write && s.Action != Conflict {
			s.Write, s.Data = true, o
			if s.Action == Kept {
				s.Note = "changed by you; the runtime require moved"
			} else {
				s.Action = Updated
			}
		}
		steps = append(steps, s)
	}
	return steps, nil
}

func plan3(s *Step, b, o, t []byte, exists bool) {
	switch {
	case !exists && bytes.Equal(b, t):
		s.Action, s.Note = Kept, "deleted by you"
	case !exists:
		s.Action, s.Note = Conflict, "deleted by you, changed in the template: not written"
	case bytes.Equal(o, t):
		// Nothing to do, whoever changed what.
	case bytes.Equal(o, b):
		s.Action, s.Write, s.Data = Updated, true, t
	case bytes.Equal(b, t):
		s.Action, s.Note = Kept, "changed by you"
	case merge.IsBinary(b) || merge.IsBinary(o) || merge.IsBinary(t):
		s.Action, s.Note = Conflict, "binary, changed by you and in the template: yours kept"
	default:
		out, n := merge.Merge3(b, o, t, merge.Labels{})
		s.Write, s.Data = true, out
		s.Action = Merged
		if n > 0 {
			s.Action, s.Note = Conflict, fmt.Sprintf("%d conflicting change%s marked", n, plural(n))
		}
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// runtimeRequire returns the runtime version a go.mod requires, or "".
func runtimeRequire(gomod []byte) string {
	f, err := modfile.ParseLax("go.mod", gomod, nil)
	if err != nil {
		return ""
	}
	for _, r := range f.Require {
		if r.Mod.Path == generator.RuntimeModule {
			return r.Mod.Version
		}
	}
	return ""
}

// setRuntimeRequire returns gomod requiring the runtime at version, changed as little as
// the text allows: only the version on the require line; gomod as it is when it does not
// require the runtime or does not parse.
func setRuntimeRequire(gomod []byte, version string) []byte {
	old := runtimeRequire(gomod)
	if old == "" || old == version {
		return gomod
	}
	lines := strings.SplitAfter(string(gomod), "\n")
	for i, l := range lines {
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), "require"))
		if len(fields) >= 2 && fields[0] == generator.RuntimeModule && fields[1] == old {
			lines[i] = strings.Replace(l, generator.RuntimeModule+" "+old, generator.RuntimeModule+" "+version, 1)
		}
	}
	return []byte(strings.Join(lines, ""))
}
