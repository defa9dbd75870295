package upgrade

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/appgen/appgen/generator"
)

// Where a project keeps what appgen generated.
const (
	Dir          = ".appgen"
	ManifestPath = Dir + "/manifest.json"
	BasePath     = Dir + "/base.tar.gz"
)

// FormatVersion is the manifest format this appgen writes; it reads no other.
const FormatVersion = 1

// Limits on what Decode and ReadBase accept, so a damaged or hostile .appgen/ cannot make
// appgen allocate without bound.
const (
	maxManifestBytes = 4 << 20
	maxBaseBytes     = 256 << 20
	maxBaseFiles     = 10000
)

// Manifest is .appgen/manifest.json.
type Manifest struct {
	Format        int      `json:"format"`         // FormatVersion
	AppgenVersion string   `json:"appgen_version"` // the appgen that generated base
	Template      Template `json:"template"`
	Options       Options  `json:"options"`
	Runtime       Runtime  `json:"runtime"`
	Files         []File   `json:"files"` // sorted by path; vendor/, go.sum and .appgen/ are not listed
}

// Template says where the project template came from.
type Template struct {
	// Source is "default" (the template built into appgen), "directory" or "archive".
	Source string `json:"source"`
	// Path is the directory or archive as given to startproject, made absolute; "" for default.
	Path string `json:"path,omitempty"`
	// Hash is the template's content hash (dirhash h1: of its files); "" for default.
	Hash string `json:"hash,omitempty"`
}

// Options are the answers the project was generated with.
type Options struct {
	Name   string `json:"name"`
	Module string `json:"module"`
	// SecretKey is the development key the template rendered (settings/key.go in the
	// default template, where it already is in the source); production reads its key from
	// the environment. Kept so a new rendering does not change it.
	SecretKey string `json:"secret_key"`
}

// Runtime is the runtime module the project requires.
type Runtime struct {
	Module  string `json:"module"`
	Version string `json:"version"`
}

// File is one generated file.
type File struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	// Origin is "template", "deploy" (appgen config at startproject) or "config" (a later
	// appgen config -o, with Config its arguments after "config").
	Origin string   `json:"origin"`
	Config []string `json:"config,omitempty"`
	// Executable is set when the file was written with execute permission.
	Executable bool `json:"executable,omitempty"`
}

// Hash is the hex SHA-256 of data, as File.SHA256 records it.
func Hash(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// Encode returns the manifest as indented JSON, files sorted by path.
func (m *Manifest) Encode() []byte {
	slices.SortFunc(m.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		// Only strings, ints and bools: Marshal cannot fail.
		panic(err)
	}
	return append(data, '\n')
}

// Decode parses and checks a manifest: the format version, the options, the template
// source, and every file's path (generator.CheckPath, no duplicates) and hash.
func Decode(data []byte) (*Manifest, error) {
	if len(data) > maxManifestBytes {
		return nil, fmt.Errorf("upgrade: %s is %d bytes, more than %d", ManifestPath, len(data), maxManifestBytes)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("upgrade: %s: %w", ManifestPath, err)
	}
	if m.Format != FormatVersion {
		return nil, fmt.Errorf("upgrade: %s: format %d, want %d (a newer appgen wrote it?)", ManifestPath, m.Format, FormatVersion)
	}
	if err := generator.ValidateName(m.Options.Name); err != nil {
		return nil, fmt.Errorf("upgrade: %s: options.name: %w", ManifestPath, err)
	}
	if err := generator.ValidateModule(m.Options.Module); err != nil {
		return nil, fmt.Errorf("upgrade: %s: options.module: %w", ManifestPath, err)
	}
	if strings.ContainsFunc(m.Options.SecretKey, func(r rune) bool { return r < 0x21 || r > 0x7e || r == '"' || r == '\\' || r == '`' }) {
		return nil, fmt.Errorf("upgrade: %s: options.secret_key: want printable ASCII without quotes or backslashes", ManifestPath)
	}
	switch m.Template.Source {
	case "default":
	case "directory", "archive":
		if !filepath.IsAbs(m.Template.Path) {
			return nil, fmt.Errorf("upgrade: %s: template.path %q: want an absolute path", ManifestPath, m.Template.Path)
		}
	default:
		return nil, fmt.Errorf("upgrade: %s: template.source %q: want default, directory or archive", ManifestPath, m.Template.Source)
	}
	seen := map[string]bool{}
	for _, f := range m.Files {
		if err := generator.CheckPath(f.Path); err != nil {
			return nil, fmt.Errorf("upgrade: %s: file %q: %w", ManifestPath, f.Path, err)
		}
		if Managed(f.Path) {
			return nil, fmt.Errorf("upgrade: %s: file %q: vendor/, go.sum and %s/ are not listed", ManifestPath, f.Path, Dir)
		}
		if seen[f.Path] {
			return nil, fmt.Errorf("upgrade: %s: file %q listed twice", ManifestPath, f.Path)
		}
		seen[f.Path] = true
		if b, err := hex.DecodeString(f.SHA256); err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("upgrade: %s: file %q: sha256 %q: want 64 hex digits", ManifestPath, f.Path, f.SHA256)
		}
		switch f.Origin {
		case "template", "deploy":
			if len(f.Config) > 0 {
				return nil, fmt.Errorf("upgrade: %s: file %q: config arguments on a %s file", ManifestPath, f.Path, f.Origin)
			}
		case "config":
			if len(f.Config) == 0 {
				return nil, fmt.Errorf("upgrade: %s: file %q: a config file without its config arguments", ManifestPath, f.Path)
			}
		default:
			return nil, fmt.Errorf("upgrade: %s: file %q: origin %q: want template, deploy or config", ManifestPath, f.Path, f.Origin)
		}
	}
	return &m, nil
}

// Managed reports whether p is a file the upgrade handles apart from the template's: the
// vendored runtime, go.sum, and the .appgen/ record itself.
func Managed(p string) bool {
	return p == "go.sum" || strings.HasPrefix(p, generator.VendorDir+"/") || strings.HasPrefix(p, Dir+"/")
}

// BaseArchive returns files as a gzip-compressed tar, the same bytes for the same files
// (no times, owners or modes but the execute bit).
func BaseArchive(files []generator.File) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b generator.File) int { return strings.Compare(a.Path, b.Path) })
	for _, f := range sorted {
		mode := int64(0o644)
		if f.Mode&0o111 != 0 {
			mode = 0o755
		}
		// Writes to a bytes.Buffer do not fail; the header fields are always valid.
		tw.WriteHeader(&tar.Header{Name: f.Path, Mode: mode, Size: int64(len(f.Data)), Format: tar.FormatPAX})
		tw.Write(f.Data)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// ReadBase reads a BaseArchive back: path to content.
func ReadBase(data []byte) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("upgrade: %s: %w", BasePath, err)
	}
	tr := tar.NewReader(io.LimitReader(zr, maxBaseBytes+1))
	out := map[string][]byte{}
	total := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("upgrade: %s: %w", BasePath, err)
		}
		if h.Typeflag != tar.TypeReg || generator.CheckPath(h.Name) != nil || len(out) >= maxBaseFiles || h.Size > maxBaseBytes-int64(total) {
			return nil, fmt.Errorf("upgrade: %s: entry %q: want at most %d regular files of %d bytes in all at safe paths", BasePath, h.Name, maxBaseFiles, maxBaseBytes)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("upgrade: %s: %w", BasePath, err)
		}
		total += len(b)
		out[h.Name] = b
	}
}

// ErrNoProject is returned by Find outside a project appgen generated.
var ErrNoProject = errors.New("upgrade: not in a project made by appgen startproject")

// Find returns the project directory at or above start: the first holding ManifestPath.
func Find(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", fmt.Errorf("upgrade: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(ManifestPath))); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w (no %s in %s or above)", ErrNoProject, ManifestPath, start)
		}
		dir = parent
	}
}

// Load reads the manifest and base contents of the project at dir, and checks that the
// base holds every listed file with its recorded hash.
func Load(dir string) (*Manifest, map[string][]byte, error) {
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(ManifestPath)))
	if err != nil {
		return nil, nil, fmt.Errorf("upgrade: %w", err)
	}
	m, err := Decode(data)
	if err != nil {
		return nil, nil, err
	}
	raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(BasePath)))
	if err != nil {
		return nil, nil, fmt.Errorf("upgrade: %w", err)
	}
	base, err := ReadBase(raw)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range m.Files {
		b, ok := base[f.Path]
		if !ok || Hash(b) != f.SHA256 {
			return nil, nil, fmt.Errorf("upgrade: %s does not hold %s as %s records it", BasePath, f.Path, ManifestPath)
		}
	}
	return m, base, nil
}

// Record returns the manifest's file entries and the .appgen/ files for files (as written),
// origins giving each path's origin ("template" when absent) and configs the arguments of
// "config" files.
func Record(m *Manifest, files []generator.File, origins map[string]string, configs map[string][]string) []generator.File {
	m.Format = FormatVersion
	m.Files = nil
	var kept []generator.File
	for _, f := range files {
		if Managed(f.Path) {
			continue
		}
		origin := origins[f.Path]
		if origin == "" {
			origin = "template"
		}
		m.Files = append(m.Files, File{Path: f.Path, SHA256: Hash(f.Data), Origin: origin, Config: configs[f.Path], Executable: f.Mode&0o111 != 0})
		kept = append(kept, f)
	}
	return []generator.File{
		{Path: ManifestPath, Mode: 0o666, Data: m.Encode()},
		{Path: BasePath, Mode: 0o666, Data: BaseArchive(kept)},
	}
}
