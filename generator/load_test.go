package generator

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entry is one archive member: a regular file unless link is set.
type entry struct {
	name string
	body string
	mode fs.FileMode
	link string
}

func zipBytes(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		body := e.body
		if e.link != "" {
			mode = fs.ModeSymlink | 0o777
			body = e.link
		}
		if strings.HasSuffix(e.name, "/") {
			mode = fs.ModeDir | 0o755
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tgzBytes(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		if e.mode != 0 {
			h.Mode = int64(e.mode)
		}
		switch {
		case e.link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		case strings.HasSuffix(e.name, "/"):
			h.Typeflag, h.Size, h.Mode = tar.TypeDir, 0, 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	gz.Close()
	return b.Bytes()
}

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var goodEntries = []entry{
	{name: "go.mod.tmpl", body: "module {{.Module}}\n"},
	{name: "bin/"},
	{name: "bin/run.sh", body: "echo run\n", mode: 0o755},
	{name: "./static/app.css", body: "p {}\n"},
}

func TestLoadTemplate(t *testing.T) {
	dir := t.TempDir()
	for _, e := range goodEntries {
		p := filepath.Join(dir, filepath.FromSlash(e.name))
		if strings.HasSuffix(e.name, "/") {
			os.MkdirAll(p, 0o755)
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		if err := os.WriteFile(p, []byte(e.body), mode); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(dir, ".git", "objects"), 0o755)
	os.WriteFile(filepath.Join(dir, ".git", "HEAD"), []byte("ref: x\n"), 0o644)
	// A link inside the template is followed.
	if err := os.Symlink("app.css", filepath.Join(dir, "static", "alias.css")); err != nil {
		t.Fatal(err)
	}
	sources := map[string]string{
		"directory": dir,
		"zip":       writeTemp(t, "t.zip", zipBytes(t, goodEntries...)),
		"tar.gz":    writeTemp(t, "t.tar.gz", tgzBytes(t, goodEntries...)),
		"tgz":       writeTemp(t, "t.tgz", tgzBytes(t, goodEntries...)),
	}
	for kind, p := range sources {
		t.Run(kind, func(t *testing.T) {
			fsys, err := LoadTemplate(p, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"go.mod.tmpl": "module {{.Module}}\n", "bin/run.sh": "echo run\n", "static/app.css": "p {}\n"}
			if kind == "directory" {
				want["static/alias.css"] = "p {}\n"
			}
			got := map[string]string{}
			fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					t.Fatal(err)
				}
				if !d.IsDir() {
					data, _ := fs.ReadFile(fsys, p)
					got[p] = string(data)
				}
				return nil
			})
			if len(got) != len(want) {
				t.Errorf("loaded %v, want %v", got, want)
			}
			for p, w := range want {
				if got[p] != w {
					t.Errorf("%s = %q, want %q", p, got[p], w)
				}
			}
			info, err := fs.Stat(fsys, "bin/run.sh")
			if err != nil || info.Mode()&0o111 == 0 {
				t.Errorf("bin/run.sh lost its execute bit: %v %v", info, err)
			}
			files, _, err := Render(Options{Name: "mysite", Template: fsys})
			if err != nil {
				t.Fatalf("rendering the loaded template: %v", err)
			}
			for _, f := range files {
				if f.Path == "bin/run.sh" && f.Mode != 0o777 {
					t.Errorf("bin/run.sh mode %v, want 0777", f.Mode)
				}
			}
		})
	}
}

func TestLoadTemplateRejects(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o644)
	linkDir := t.TempDir()
	os.WriteFile(filepath.Join(linkDir, "ok.txt"), []byte("x"), 0o644)
	os.Symlink(filepath.Join(outside, "secret"), filepath.Join(linkDir, "leak.txt"))
	dotdotDir := t.TempDir()
	os.Symlink("../../../../etc/passwd", filepath.Join(dotdotDir, "passwd"))

	big := strings.Repeat("a", 2048)
	tests := []struct {
		name   string
		path   string
		limits Limits
		is     error
		want   string
	}{
		{name: "zip dotdot", path: writeTemp(t, "a.zip", zipBytes(t, entry{name: "../evil.txt", body: "x"})), is: ErrUnsafeTemplate, want: `"../evil.txt" leaves the template`},
		{name: "zip nested dotdot", path: writeTemp(t, "a.zip", zipBytes(t, entry{name: "a/../../evil.txt", body: "x"})), is: ErrUnsafeTemplate, want: "leaves the template"},
		{name: "zip absolute", path: writeTemp(t, "a.zip", zipBytes(t, entry{name: "/etc/cron.d/evil", body: "x"})), is: ErrUnsafeTemplate, want: "is an absolute path"},
		{name: "zip backslash dotdot", path: writeTemp(t, "a.zip", zipBytes(t, entry{name: `..\evil.txt`, body: "x"})), is: ErrUnsafeTemplate, want: "leaves the template"},
		{name: "zip drive letter", path: writeTemp(t, "a.zip", zipBytes(t, entry{name: `C:\evil.txt`, body: "x"})), is: ErrUnsafeTemplate, want: "is an absolute path"},
		{name: "zip symlink", path: writeTemp(t, "a.zip", zipBytes(t, entry{name: "link", link: "/etc/passwd"})), is: ErrUnsafeTemplate, want: "is a symbolic link"},
		{name: "tar dotdot", path: writeTemp(t, "a.tar.gz", tgzBytes(t, entry{name: "../../evil.txt", body: "x"})), is: ErrUnsafeTemplate, want: "leaves the template"},
		{name: "tar absolute", path: writeTemp(t, "a.tar.gz", tgzBytes(t, entry{name: "/tmp/evil.txt", body: "x"})), is: ErrUnsafeTemplate, want: "is an absolute path"},
		{name: "tar symlink", path: writeTemp(t, "a.tar.gz", tgzBytes(t, entry{name: "static", link: "/etc"}, entry{name: "static/passwd", body: "x"})), is: ErrUnsafeTemplate, want: `"static" is a link to "/etc"`},
		{name: "dir link outside", path: linkDir, is: ErrUnsafeTemplate, want: "leak.txt is a symbolic link to " + filepath.Join(outside, "secret") + ", outside the template"},
		{name: "dir dotdot link", path: dotdotDir, is: ErrUnsafeTemplate, want: "passwd is a"},
		{name: "too many files", path: writeTemp(t, "a.zip", zipBytes(t, entry{name: "a", body: "1"}, entry{name: "b", body: "2"}, entry{name: "c", body: "3"})), limits: Limits{MaxFiles: 2}, is: ErrTemplateTooLarge, want: "more than 2 files"},
		{name: "file too large", path: writeTemp(t, "a.tar.gz", tgzBytes(t, entry{name: "big", body: big})), limits: Limits{MaxFileBytes: 1024}, is: ErrTemplateTooLarge, want: "big is 2048 bytes, over the limit of 1024"},
		{name: "total too large", path: writeTemp(t, "a.zip", zipBytes(t, entry{name: "a", body: big}, entry{name: "b", body: big})), limits: Limits{MaxTotalBytes: 3000}, is: ErrTemplateTooLarge, want: "over 3000 bytes in all"},
		{name: "zip bomb", path: writeTemp(t, "a.zip", lyingZip(t, 1<<20, 1<<20)), limits: Limits{MaxFileBytes: 4096}, is: ErrTemplateTooLarge, want: "bomb is 1048576 bytes, over the limit of 4096"},
		{name: "zip bomb lying about its size", path: writeTemp(t, "a.zip", lyingZip(t, 1<<20, 10)), limits: Limits{MaxFileBytes: 4096}, want: "reading bomb: zip: not a valid zip file"},
		{name: "not a zip", path: writeTemp(t, "a.zip", []byte("hello")), want: "not a readable zip file"},
		{name: "not gzip", path: writeTemp(t, "a.tar.gz", []byte("hello")), want: "not a readable gzip file"},
		{name: "unknown kind", path: writeTemp(t, "a.rar", []byte("hello")), want: "want a directory, a .zip or a .tar.gz file"},
		{name: "missing", path: filepath.Join(outside, "nope.zip"), is: fs.ErrNotExist, want: "no such file"},
		{name: "empty", path: writeTemp(t, "a.zip", zipBytes(t)), want: "holds no files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadTemplate(tt.path, tt.limits)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadTemplate = %v, want an error containing %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
		})
	}
}

// lyingZip holds one file of n zero bytes whose header claims it has claimed bytes, the
// shape of a zip bomb aimed at readers that trust the header.
func lyingZip(t testing.TB, n int, claimed uint64) []byte {
	t.Helper()
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestCompression)
	fw.Write(make([]byte, n))
	fw.Close()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	h := &zip.FileHeader{Name: "bomb", Method: zip.Deflate, CompressedSize64: uint64(comp.Len()), UncompressedSize64: claimed}
	w, err := zw.CreateRaw(h)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(comp.Bytes())
	zw.Close()
	return b.Bytes()
}

// FuzzLoadZip and FuzzLoadTarGz feed arbitrary bytes to the archive readers: they must
// never panic, and whatever they accept must hold only safe relative paths within limits.
func FuzzLoadZip(f *testing.F) {
	f.Add(zipBytes(f, goodEntries...))
	f.Add(zipBytes(f, entry{name: "../x", body: "x"}))
	f.Add(zipBytes(f, entry{name: "l", link: "/"}))
	f.Add(lyingZip(f, 4096, 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkLoaded(t, writeTemp(t, "f.zip", data))
	})
}

func FuzzLoadTarGz(f *testing.F) {
	f.Add(tgzBytes(f, goodEntries...))
	f.Add(tgzBytes(f, entry{name: "../x", body: "x"}))
	f.Add(tgzBytes(f, entry{name: "l", link: "/"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkLoaded(t, writeTemp(t, "f.tar.gz", data))
	})
}

func checkLoaded(t *testing.T, p string) {
	lim := Limits{MaxFiles: 50, MaxFileBytes: 1 << 16, MaxTotalBytes: 1 << 18}
	fsys, err := LoadTemplate(p, lim)
	if err != nil {
		return
	}
	var n int
	var total int64
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !fs.ValidPath(p) || strings.Contains(p, `\`) {
			t.Errorf("loaded unsafe path %q", p)
		}
		if !d.IsDir() {
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			n++
			total += int64(len(data))
		}
		return nil
	})
	if err != nil {
		t.Errorf("walking a loaded template: %v", err)
	}
	if n > lim.MaxFiles || total > lim.MaxTotalBytes {
		t.Errorf("loaded %d files, %d bytes, beyond %+v", n, total, lim)
	}
}
