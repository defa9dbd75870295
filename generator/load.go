package generator

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing/fstest"
	"time"
)

// ErrUnsafeTemplate is wrapped by errors for template entries that would escape the
// template or the target: absolute paths, "..", and symbolic links pointing outside.
var ErrUnsafeTemplate = errors.New("unsafe template entry")

// ErrTemplateTooLarge is wrapped by errors for templates beyond Limits.
var ErrTemplateTooLarge = errors.New("template too large")

// Limits bound what LoadTemplate reads, so an archive bomb fails fast instead of filling
// memory. A project template is small; the defaults are generous for one.
type Limits struct {
	MaxFiles      int   // files in the template; 0 means 10000
	MaxFileBytes  int64 // bytes in one file once uncompressed; 0 means 16 MiB
	MaxTotalBytes int64 // bytes in all files once uncompressed; 0 means 64 MiB
}

func (l Limits) withDefaults() Limits {
	if l.MaxFiles <= 0 {
		l.MaxFiles = 10000
	}
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = 16 << 20
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = 64 << 20
	}
	return l
}

// LoadTemplate reads a user's project template into memory: a directory, a .zip file, or a
// .tar.gz (.tgz) file. Archive entries are paths relative to the project directory, as
// `cd mytemplate && zip -r ../mytemplate.zip .` makes them. Entries that are
// absolute, contain "..", or are symbolic links (in a directory: links pointing outside it)
// are refused with ErrUnsafeTemplate, and a template beyond lim with ErrTemplateTooLarge.
// A .git directory is skipped.
func LoadTemplate(name string, lim Limits) (fs.FS, error) {
	lim = lim.withDefaults()
	info, err := os.Stat(name)
	if err != nil {
		return nil, fmt.Errorf("generator: template %s: %w", name, err)
	}
	l := &loader{name: name, lim: lim, files: fstest.MapFS{}}
	lower := strings.ToLower(name)
	switch {
	case info.IsDir():
		err = l.dir()
	case strings.HasSuffix(lower, ".zip"):
		err = l.zip(info.Size())
	case strings.HasSuffix(lower, ".tar.gz") || strings.HasSuffix(lower, ".tgz"):
		err = l.tarGz()
	default:
		return nil, fmt.Errorf("generator: template %s: want a directory, a .zip or a .tar.gz file", name)
	}
	if err != nil {
		return nil, err
	}
	if len(l.files) == 0 {
		return nil, fmt.Errorf("generator: template %s holds no files", name)
	}
	return l.files, nil
}

type loader struct {
	name  string
	lim   Limits
	files fstest.MapFS
	total int64
}

// add checks an entry's name and size and stores it. size is what the entry claims, or -1
// when unknown; the real size is enforced while reading, since an archive can lie.
func (l *loader) add(name string, mode fs.FileMode, size int64, r io.Reader) error {
	clean, err := l.checkName(name)
	if err != nil {
		return err
	}
	if clean == "" || clean == ".git" || strings.HasPrefix(clean, ".git/") || strings.Contains(clean, "/.git/") {
		return nil
	}
	if len(l.files) >= l.lim.MaxFiles {
		return fmt.Errorf("generator: template %s: %w: more than %d files", l.name, ErrTemplateTooLarge, l.lim.MaxFiles)
	}
	if size > l.lim.MaxFileBytes {
		return fmt.Errorf("generator: template %s: %w: %s is %d bytes, over the limit of %d", l.name, ErrTemplateTooLarge, clean, size, l.lim.MaxFileBytes)
	}
	data, err := io.ReadAll(io.LimitReader(r, l.lim.MaxFileBytes+1))
	if err != nil {
		return fmt.Errorf("generator: template %s: reading %s: %w", l.name, clean, err)
	}
	if int64(len(data)) > l.lim.MaxFileBytes {
		return fmt.Errorf("generator: template %s: %w: %s is over the limit of %d bytes", l.name, ErrTemplateTooLarge, clean, l.lim.MaxFileBytes)
	}
	l.total += int64(len(data))
	if l.total > l.lim.MaxTotalBytes {
		return fmt.Errorf("generator: template %s: %w: over %d bytes in all", l.name, ErrTemplateTooLarge, l.lim.MaxTotalBytes)
	}
	if _, dup := l.files[clean]; dup {
		return fmt.Errorf("generator: template %s: entry %s appears twice", l.name, clean)
	}
	l.files[clean] = &fstest.MapFile{Data: data, Mode: mode.Perm(), ModTime: time.Time{}}
	return nil
}

// checkName returns the entry's clean slash path, "" for the root, or an error for a name
// that would land outside the template.
func (l *loader) checkName(name string) (string, error) {
	n := strings.ReplaceAll(name, `\`, "/")
	if strings.HasPrefix(n, "/") || filepath.IsAbs(name) || (len(n) >= 2 && n[1] == ':') {
		return "", fmt.Errorf("generator: template %s: %w: %q is an absolute path", l.name, ErrUnsafeTemplate, name)
	}
	for _, elem := range strings.Split(n, "/") {
		if elem == ".." {
			return "", fmt.Errorf("generator: template %s: %w: %q leaves the template with ..", l.name, ErrUnsafeTemplate, name)
		}
	}
	clean := path.Clean(strings.TrimSuffix(n, "/"))
	if clean == "." {
		return "", nil
	}
	return clean, nil
}

func (l *loader) zip(size int64) error {
	f, err := os.Open(l.name)
	if err != nil {
		return fmt.Errorf("generator: template %s: %w", l.name, err)
	}
	defer f.Close()
	zr, err := zip.NewReader(f, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return fmt.Errorf("generator: template %s: not a readable zip file: %w", l.name, err)
	}
	for _, e := range zr.File {
		mode := e.Mode()
		if mode&fs.ModeSymlink != 0 {
			return fmt.Errorf("generator: template %s: %w: %q is a symbolic link; archives may hold only files and directories", l.name, ErrUnsafeTemplate, e.Name)
		}
		if mode.IsDir() {
			if _, err := l.checkName(e.Name); err != nil {
				return err
			}
			continue
		}
		if !mode.IsRegular() {
			return fmt.Errorf("generator: template %s: entry %q is not a regular file", l.name, e.Name)
		}
		if e.UncompressedSize64 > uint64(l.lim.MaxFileBytes) {
			return fmt.Errorf("generator: template %s: %w: %s is %d bytes, over the limit of %d", l.name, ErrTemplateTooLarge, e.Name, e.UncompressedSize64, l.lim.MaxFileBytes)
		}
		if err := l.addZipEntry(e); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) addZipEntry(e *zip.File) error {
	if _, err := l.checkName(e.Name); err != nil {
		return err
	}
	rc, err := e.Open()
	if err != nil {
		return fmt.Errorf("generator: template %s: opening %s: %w", l.name, e.Name, err)
	}
	defer rc.Close()
	return l.add(e.Name, e.Mode(), int64(e.UncompressedSize64), rc)
}

func (l *loader) tarGz() error {
	f, err := os.Open(l.name)
	if err != nil {
		return fmt.Errorf("generator: template %s: %w", l.name, err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("generator: template %s: not a readable gzip file: %w", l.name, err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("generator: template %s: not a readable tar archive: %w", l.name, err)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if _, err := l.checkName(h.Name); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := l.add(h.Name, fs.FileMode(h.Mode), h.Size, tr); err != nil {
				return err
			}
		case tar.TypeSymlink, tar.TypeLink:
			return fmt.Errorf("generator: template %s: %w: %q is a link to %q; archives may hold only files and directories", l.name, ErrUnsafeTemplate, h.Name, h.Linkname)
		case tar.TypeXGlobalHeader:
		default:
			return fmt.Errorf("generator: template %s: entry %q is not a regular file (tar type %q)", l.name, h.Name, h.Typeflag)
		}
	}
}

// dir reads a directory template. Symbolic links are followed only when they resolve to a
// regular file inside the template: a link out of it would copy a file the template author
// does not ship.
func (l *loader) dir() error {
	root, err := filepath.EvalSymlinks(l.name)
	if err != nil {
		return fmt.Errorf("generator: template %s: %w", l.name, err)
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return fmt.Errorf("generator: template %s: %w", l.name, err)
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("generator: template %s: %w", l.name, err)
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return fmt.Errorf("generator: template %s: %w", l.name, err)
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		target := p
		if d.Type()&fs.ModeSymlink != 0 {
			resolved, err := filepath.EvalSymlinks(p)
			if err != nil {
				return fmt.Errorf("generator: template %s: %w: %s is a broken symbolic link", l.name, ErrUnsafeTemplate, rel)
			}
			inside, err := filepath.Rel(root, resolved)
			if err != nil || inside == ".." || strings.HasPrefix(inside, ".."+string(filepath.Separator)) {
				return fmt.Errorf("generator: template %s: %w: %s is a symbolic link to %s, outside the template", l.name, ErrUnsafeTemplate, rel, resolved)
			}
			target = resolved
		}
		info, err := os.Stat(target)
		if err != nil {
			return fmt.Errorf("generator: template %s: %w", l.name, err)
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("generator: template %s: %s is not a regular file", l.name, rel)
		}
		f, err := os.Open(target)
		if err != nil {
			return fmt.Errorf("generator: template %s: %w", l.name, err)
		}
		defer f.Close()
		return l.add(rel, info.Mode(), info.Size(), f)
	})
}
