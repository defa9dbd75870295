package generator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// ErrTargetExists is wrapped by CheckTarget's errors: the target is a file, holds
// something other than a .git directory, or holds a file that would be written.
var ErrTargetExists = errors.New("target exists")

// CheckTarget reports whether files can be written into dir: dir must not exist, or be a
// directory that is empty or holds only a .git directory (so `git init` may come first),
// and none of files may exist in it. It does not write anything.
func CheckTarget(dir string, files []File) error {
	info, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("generator: target directory %s: %w", dir, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("generator: %w: %s is a file, want a directory that is empty or missing", ErrTargetExists, dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("generator: target directory %s: %w", dir, err)
	}
	for _, e := range entries {
		if e.Name() != ".git" {
			return fmt.Errorf("generator: %w: target directory %s exists and is non-empty (it holds %s)", ErrTargetExists, dir, e.Name())
		}
	}
	for _, f := range files {
		if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f.Path))); err == nil {
			return fmt.Errorf("generator: %w: target directory %s already holds %s", ErrTargetExists, dir, f.Path)
		}
	}
	return nil
}

// Write writes files into dir atomically: it checks the target (CheckTarget), writes every
// file into a staging directory beside dir (inside it when dir exists), and only then moves
// the result into place. If anything fails or ctx is cancelled (appgen cancels it on
// SIGINT), Write removes everything it created, including missing parent directories it
// made, and returns the error. File and directory modes are 0o666, 0o777 and File.Mode,
// less the process umask.
func Write(ctx context.Context, dir string, files []File) (err error) {
	if err := CheckTarget(dir, files); err != nil {
		return err
	}
	_, statErr := os.Stat(dir)
	exists := statErr == nil
	stageParent := dir
	if !exists {
		stageParent = filepath.Dir(dir)
		var created []string
		created, err = mkdirAllTracked(stageParent)
		defer func() {
			if err != nil {
				for _, d := range slices.Backward(created) {
					os.Remove(d)
				}
			}
		}()
		if err != nil {
			return err
		}
	}
	stage, err := mkdirStage(stageParent)
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	if err := writeAll(ctx, stage, files); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("generator: writing %s: %w", dir, ctx.Err())
		}
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("generator: writing %s: %w", dir, err)
	}
	if !exists {
		if err := os.Rename(stage, dir); err != nil {
			return fmt.Errorf("generator: moving the project into place: %w", err)
		}
		return nil
	}
	return moveEntries(ctx, stage, dir)
}

// writeAll writes files into stage: first every directory, in path order so that parents
// come first, then the files, on as many goroutines as there are CPUs. Creating a file is
// most of startproject's system time, and files in different directories are created in
// parallel by the kernel. It returns the first error in path order, as a sequential loop
// would, and stops early when ctx is done.
func writeAll(ctx context.Context, stage string, files []File) error {
	var dirs []string
	made := map[string]bool{stage: true} // one Mkdir each, not one MkdirAll per file
	for _, f := range files {
		for d := filepath.Dir(filepath.Join(stage, filepath.FromSlash(f.Path))); !made[d]; d = filepath.Dir(d) {
			made[d] = true
			dirs = append(dirs, d)
		}
	}
	slices.Sort(dirs) // a parent sorts before its children
	for _, d := range dirs {
		if err := os.Mkdir(d, 0o777); err != nil {
			return fmt.Errorf("generator: %w", err)
		}
	}
	errs := make([]error, len(files))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(goruntime.GOMAXPROCS(0), len(files)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(files) || ctx.Err() != nil {
					return
				}
				errs[i] = writeFile(filepath.Join(stage, filepath.FromSlash(files[i].Path)), files[i])
				if errs[i] != nil {
					next.Store(int64(len(files))) // the others stop at their next file
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}

// moveEntries moves the staged top-level entries into the existing dir one by one, and
// takes them all back out if one fails, so an existing directory ends up complete or as
// it was.
func moveEntries(ctx context.Context, stage, dir string) (err error) {
	entries, err := os.ReadDir(stage)
	if err != nil {
		return fmt.Errorf("generator: reading staged files: %w", err)
	}
	var moved []string
	defer func() {
		if err != nil {
			for _, m := range slices.Backward(moved) {
				os.RemoveAll(m)
			}
		}
	}()
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("generator: writing %s: %w", dir, err)
		}
		from, to := filepath.Join(stage, e.Name()), filepath.Join(dir, e.Name())
		if err := moveNoReplace(from, to, e.IsDir()); err != nil {
			return err
		}
		moved = append(moved, to)
	}
	return nil
}

// moveNoReplace renames from to to without ever replacing a file that appeared at to
// since CheckTarget: a file is hard-linked (which fails if to exists) and then unlinked
// from the stage; rename of a directory fails on a non-empty one.
func moveNoReplace(from, to string, isDir bool) error {
	if !isDir {
		if err := os.Link(from, to); err == nil {
			return nil
		} else if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("generator: %w: %s appeared while writing", ErrTargetExists, to)
		}
		// Some file systems have no hard links: fall back to a checked rename.
	}
	if _, err := os.Lstat(to); err == nil && !isDir {
		return fmt.Errorf("generator: %w: %s appeared while writing", ErrTargetExists, to)
	}
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("generator: moving %s into place: %w", to, err)
	}
	return nil
}

// mkdirAllTracked is os.MkdirAll that returns the directories it created, outermost
// first, so a failed Write can remove them.
func mkdirAllTracked(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("generator: %w", err)
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	slices.Reverse(missing)
	var created []string
	for _, d := range missing {
		if err := os.Mkdir(d, 0o777); err != nil {
			return created, fmt.Errorf("generator: creating directory: %w", err)
		}
		created = append(created, d)
	}
	return created, nil
}

// mkdirStage makes a hidden staging directory in parent. os.MkdirTemp would make it 0o700;
// Mkdir with 0o777 lets the umask decide, as it does for the project directory it becomes.
func mkdirStage(parent string) (string, error) {
	for range 10 {
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("generator: %w", err)
		}
		name := filepath.Join(parent, ".appgen-"+hex.EncodeToString(b[:]))
		err := os.Mkdir(name, 0o777)
		if err == nil {
			return name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("generator: creating a staging directory in %s: %w", parent, err)
		}
	}
	return "", fmt.Errorf("generator: creating a staging directory in %s: too many name collisions", parent)
}

// writeFile creates name, whose directory exists, holding f; it never replaces a file.
func writeFile(name string, f File) error {
	out, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.Mode.Perm())
	if err != nil {
		return fmt.Errorf("generator: writing %s: %w", f.Path, err)
	}
	_, err = out.Write(f.Data)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("generator: writing %s: %w", f.Path, err)
	}
	return nil
}
