package generator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ApplyDir is the folder, inside the project, where Apply stages new files and keeps the
// old ones until every change is in place.
const ApplyDir = ".appgen-apply"

// Apply changes files in the existing directory dir all together or not at all: writes
// (new or replaced files, File.Mode before the umask) and removes (slash paths). It writes
// every new file into ApplyDir first and links every file it replaces or removes there,
// then records a journal and only then moves files into place. If anything fails or ctx is
// cancelled meanwhile, the journal puts everything back; if the process dies, the next
// Recover does. Empty directories a write created may remain after a rollback.
func Apply(ctx context.Context, dir string, writes []File, removes []string) (err error) {
	if done, err := Recover(dir); err != nil {
		return err
	} else if done {
		return fmt.Errorf("generator: %s held an interrupted change, now undone; run again", dir)
	}
	work := filepath.Join(dir, ApplyDir)
	if err := os.Mkdir(work, 0o700); err != nil {
		return fmt.Errorf("generator: %w", err)
	}
	defer func() {
		if err != nil {
			Recover(dir)
		}
	}()
	var journal strings.Builder
	for _, f := range writes {
		if err := CheckPath(f.Path); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("generator: changing %s: %w", dir, err)
		}
		// writeFile no longer makes its directory (Write makes each one once): make it here.
		staged := filepath.Join(work, "new", filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(staged), 0o700); err != nil {
			return fmt.Errorf("generator: %w", err)
		}
		if err := writeFile(staged, f); err != nil {
			return err
		}
		op := "A"
		if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f.Path))); err == nil {
			op = "R"
			if err := backup(dir, work, f.Path); err != nil {
				return err
			}
		}
		fmt.Fprintf(&journal, "%s %s\n", op, f.Path)
	}
	for _, p := range removes {
		if err := CheckPath(p); err != nil {
			return err
		}
		if err := backup(dir, work, p); err != nil {
			return err
		}
		fmt.Fprintf(&journal, "D %s\n", p)
	}
	if err := writeJournal(work, journal.String()); err != nil {
		return err
	}
	for _, f := range writes {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("generator: changing %s: %w", dir, err)
		}
		to := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(to), 0o777); err != nil {
			return fmt.Errorf("generator: %w", err)
		}
		if err := os.Rename(filepath.Join(work, "new", filepath.FromSlash(f.Path)), to); err != nil {
			return fmt.Errorf("generator: moving %s into place: %w", f.Path, err)
		}
	}
	for _, p := range removes {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(p))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("generator: removing %s: %w", p, err)
		}
	}
	// Done: without the journal, what is left of the work folder is only rubbish.
	if err := os.Remove(filepath.Join(work, "journal")); err != nil {
		return fmt.Errorf("generator: %w", err)
	}
	os.RemoveAll(work)
	return nil
}

// backup keeps the file at p (relative to dir) under work/old, by a hard link where the
// file system has them, else by a copy.
func backup(dir, work, p string) error {
	from := filepath.Join(dir, filepath.FromSlash(p))
	to := filepath.Join(work, "old", filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return fmt.Errorf("generator: %w", err)
	}
	if err := os.Link(from, to); err == nil {
		return nil
	}
	in, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("generator: keeping %s: %w", p, err)
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return fmt.Errorf("generator: keeping %s: %w", p, err)
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
	if err != nil {
		return fmt.Errorf("generator: keeping %s: %w", p, err)
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("generator: keeping %s: %w", p, err)
	}
	return nil
}

// writeJournal commits the list of changes: written to a temporary name, synced, renamed.
// Before the rename nothing in the project has changed; after it, Recover can undo.
func writeJournal(work, text string) error {
	tmp := filepath.Join(work, "journal.tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("generator: %w", err)
	}
	_, err = f.WriteString(text)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("generator: writing the change journal: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(work, "journal")); err != nil {
		return fmt.Errorf("generator: %w", err)
	}
	return nil
}

// Recover undoes an Apply that did not finish in dir: it puts back every file the journal
// says was replaced or removed, removes every file it added, and deletes the work folder.
// It reports whether there was anything to undo.
func Recover(dir string) (bool, error) {
	work := filepath.Join(dir, ApplyDir)
	if _, err := os.Lstat(work); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	f, err := os.Open(filepath.Join(work, "journal"))
	if err == nil {
		var lines []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return true, fmt.Errorf("generator: reading the change journal: %w", err)
		}
		for _, line := range slices.Backward(lines) {
			op, p, ok := strings.Cut(line, " ")
			if !ok || CheckPath(p) != nil {
				return true, fmt.Errorf("generator: change journal line %q: want an operation and a path", line)
			}
			target := filepath.Join(dir, filepath.FromSlash(p))
			old := filepath.Join(work, "old", filepath.FromSlash(p))
			switch op {
			case "A":
				if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return true, fmt.Errorf("generator: undoing %s: %w", p, err)
				}
			case "R", "D":
				if _, err := os.Lstat(old); err == nil {
					if err := os.Rename(old, target); err != nil {
						return true, fmt.Errorf("generator: restoring %s: %w", p, err)
					}
				}
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return true, fmt.Errorf("generator: %w", err)
	}
	if err := os.RemoveAll(work); err != nil {
		return true, fmt.Errorf("generator: %w", err)
	}
	return true, nil
}
