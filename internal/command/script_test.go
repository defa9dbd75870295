package command

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// rootEnv carries the repository root (which holds runtime/) to the appgen processes
// testscript starts: they run in the script's work directory, not this package's.
const rootEnv = "APPGEN_TEST_REPO_ROOT"

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		// The real entry point, as main.go calls it, with the runtime read from the
		// repository instead of the embedded copy (the same files).
		"appgen": func() {
			var root = os.Getenv(rootEnv)
			os.Exit(Execute(Build{}, os.DirFS(filepath.Join(root, "runtime")), os.Args, os.Stdout, os.Stderr))
		},
	})
}

func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestScripts(t *testing.T) {
	root := repoRoot(t)
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			e.Setenv(rootEnv, root)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"status":     cmdStatus,
			"mkarchive":  cmdMkarchive,
			"executable": cmdExecutable,
		},
	})
}

// cmdStatus runs a program and checks its exit status, which `exec` cannot:
//
//	status N PROG [ARGS...]
//
// Its stdout and stderr are the command's, for the stdout and stderr checks after it.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status N PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status: %q is not a number", args[0])
	}
	path, err := lookPath(ts, args[1])
	ts.Check(err)
	cmd := exec.Command(path, args[2:]...)
	cmd.Dir = ts.MkAbs(".")
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "WORK", rootEnv, secretSeedEnv} {
		if v := ts.Getenv(k); v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Stdout, cmd.Stderr = ts.Stdout(), ts.Stderr()
	err = cmd.Run()
	got := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		got = exitErr.ExitCode()
	} else if err != nil {
		ts.Fatalf("status: running %s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", strings.Join(args[1:], " "), got, want)
	}
}

func lookPath(ts *testscript.TestScript, prog string) (string, error) {
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		p := filepath.Join(dir, prog)
		if info, err := os.Stat(p); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("status: %s not found in PATH", prog)
}

// cmdMkarchive writes a .zip or .tar.gz archive, each entry named explicitly so scripts
// can build malicious archives as easily as good ones:
//
//	mkarchive OUT NAME=FILE...       an entry NAME holding FILE (a path in the work dir)
//	mkarchive OUT link:NAME=TARGET   a symbolic link entry
//	mkarchive OUT -C DIR             every file under DIR, named relative to it
func cmdMkarchive(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: mkarchive OUT ENTRY...")
	}
	type member struct {
		name, link string
		data       []byte
		mode       os.FileMode
	}
	var members []member
	rest := args[1:]
	for len(rest) > 0 {
		a := rest[0]
		rest = rest[1:]
		switch {
		case a == "-C" && len(rest) > 0:
			dir := ts.MkAbs(rest[0])
			rest = rest[1:]
			ts.Check(filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				info, err := d.Info()
				if err != nil {
					return err
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				members = append(members, member{name: filepath.ToSlash(rel), data: data, mode: info.Mode().Perm()})
				return nil
			}))
		case strings.HasPrefix(a, "link:"):
			name, target, ok := strings.Cut(strings.TrimPrefix(a, "link:"), "=")
			if !ok {
				ts.Fatalf("mkarchive: %q: want link:NAME=TARGET", a)
			}
			members = append(members, member{name: name, link: target})
		default:
			name, file, ok := strings.Cut(a, "=")
			if !ok {
				ts.Fatalf("mkarchive: %q: want NAME=FILE", a)
			}
			data, err := os.ReadFile(ts.MkAbs(file))
			ts.Check(err)
			members = append(members, member{name: name, data: data, mode: 0o644})
		}
	}
	var b bytes.Buffer
	out := args[0]
	switch {
	case strings.HasSuffix(out, ".zip"):
		zw := zip.NewWriter(&b)
		for _, m := range members {
			h := &zip.FileHeader{Name: m.name, Method: zip.Deflate}
			data := m.data
			if m.link != "" {
				h.SetMode(os.ModeSymlink | 0o777)
				data = []byte(m.link)
			} else {
				h.SetMode(m.mode)
			}
			w, err := zw.CreateHeader(h)
			ts.Check(err)
			_, err = w.Write(data)
			ts.Check(err)
		}
		ts.Check(zw.Close())
	case strings.HasSuffix(out, ".tar.gz"):
		gz := gzip.NewWriter(&b)
		tw := tar.NewWriter(gz)
		for _, m := range members {
			h := &tar.Header{Name: m.name, Mode: int64(m.mode), Size: int64(len(m.data)), Typeflag: tar.TypeReg}
			if m.link != "" {
				h = &tar.Header{Name: m.name, Mode: 0o777, Typeflag: tar.TypeSymlink, Linkname: m.link}
			}
			ts.Check(tw.WriteHeader(h))
			_, err := tw.Write(m.data)
			ts.Check(err)
		}
		ts.Check(tw.Close())
		ts.Check(gz.Close())
	default:
		ts.Fatalf("mkarchive: %s: want a .zip or .tar.gz name", out)
	}
	ts.Check(os.WriteFile(ts.MkAbs(out), b.Bytes(), 0o644))
}

// cmdExecutable checks that files have (or, negated, lack) the owner's execute bit.
func cmdExecutable(ts *testscript.TestScript, neg bool, args []string) {
	for _, a := range args {
		info, err := os.Stat(ts.MkAbs(a))
		ts.Check(err)
		if exec := info.Mode()&0o100 != 0; exec == neg {
			ts.Fatalf("%s has mode %v", a, info.Mode())
		}
	}
}
