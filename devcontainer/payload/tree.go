package payload

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
)

// Type is the type of a tree entry.
type Type byte

const (
	TypeFile    Type = 'f'
	TypeDir     Type = 'd'
	TypeSymlink Type = 'l'
)

// File is one entry of a Tree.
type File struct {
	// Path is slash-separated, relative, clean and inside the tree.
	Path string
	Type Type
	// Mode is the permission bits as archived (the reference makes every
	// payload file 0755 before running it, so they are not part of the
	// digest).
	Mode fs.FileMode
	Data []byte // TypeFile
	Link string // TypeSymlink: the target as written
}

// Tree is a feature payload: its files sorted by path.
type Tree struct {
	Files []File
}

// Get returns the entry at p (slash path, relative).
func (t *Tree) Get(p string) (*File, bool) {
	p = path.Clean(p)
	i := sort.Search(len(t.Files), func(i int) bool { return t.Files[i].Path >= p })
	if i < len(t.Files) && t.Files[i].Path == p {
		return &t.Files[i], true
	}
	return nil, false
}

// Size is the total size of the file contents.
func (t *Tree) Size() int64 {
	var n int64
	for _, f := range t.Files {
		n += int64(len(f.Data))
	}
	return n
}

// Digest is "sha256:<hex>" over the entries' types, paths, contents and
// link targets, in path order. Modes, owners and times do not count.
func (t *Tree) Digest() string {
	h := sha256.New()
	var lenBuf [8]byte
	writeField := func(b []byte) {
		binary.BigEndian.PutUint64(lenBuf[:], uint64(len(b)))
		h.Write(lenBuf[:])
		h.Write(b)
	}
	h.Write([]byte("devcache-payload-v1\x00"))
	for _, f := range t.Files {
		h.Write([]byte{byte(f.Type)})
		writeField([]byte(f.Path))
		switch f.Type {
		case TypeFile:
			writeField(f.Data)
		case TypeSymlink:
			writeField([]byte(f.Link))
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// WriteDir writes the tree below dir (which must exist), files with their
// archived permission bits.
func (t *Tree) WriteDir(dir string) error {
	for _, f := range t.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		switch f.Type {
		case TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case TypeFile:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			mode := f.Mode.Perm()
			if mode == 0 {
				mode = 0o644
			}
			if err := os.WriteFile(p, f.Data, mode); err != nil {
				return err
			}
		case TypeSymlink:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(f.Link, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// Limits bound what an archive or folder may contain.
type Limits struct {
	MaxFiles     int   // entries
	MaxFileSize  int64 // bytes of one file
	MaxTotalSize int64 // bytes of all files
}

// DefaultLimits fit every published feature by far (the largest official
// features are a few hundred KiB).
var DefaultLimits = Limits{MaxFiles: 10000, MaxFileSize: 64 << 20, MaxTotalSize: 256 << 20}

// ErrLimit is wrapped by errors for payloads over a limit.
var ErrLimit = errors.New("payload exceeds a size limit")

// builder accumulates entries with the safety checks shared by archives and
// folders.
type builder struct {
	limits Limits
	files  map[string]*File
	total  int64
}

func newBuilder(l Limits) *builder {
	if l.MaxFiles == 0 {
		l = DefaultLimits
	}
	return &builder{limits: l, files: map[string]*File{}}
}

// cleanName makes an archive entry name a clean relative path, or fails for
// names that escape the tree.
func cleanName(name string) (string, error) {
	if name == "" {
		return "", errors.New("empty entry name")
	}
	if path.IsAbs(name) || (len(name) > 1 && name[1] == ':') {
		return "", fmt.Errorf("entry %q has an absolute path", name)
	}
	for _, seg := range splitSlash(name) {
		if seg == ".." {
			return "", fmt.Errorf("entry %q escapes the feature folder", name)
		}
	}
	p := path.Clean(name)
	if p == "." {
		return ".", nil
	}
	return p, nil
}

func splitSlash(p string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' || p[i] == '\\' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return out
}

func (b *builder) add(f File) error {
	if f.Path == "." {
		return nil
	}
	if len(b.files) >= b.limits.MaxFiles {
		return fmt.Errorf("%w: more than %d entries", ErrLimit, b.limits.MaxFiles)
	}
	if int64(len(f.Data)) > b.limits.MaxFileSize {
		return fmt.Errorf("%w: %s is larger than %d bytes", ErrLimit, f.Path, b.limits.MaxFileSize)
	}
	if old, ok := b.files[f.Path]; ok {
		b.total -= int64(len(old.Data))
	}
	b.total += int64(len(f.Data))
	if b.total > b.limits.MaxTotalSize {
		return fmt.Errorf("%w: more than %d bytes in all", ErrLimit, b.limits.MaxTotalSize)
	}
	if f.Type == TypeSymlink {
		if err := checkLink(f.Path, f.Link); err != nil {
			return err
		}
	}
	// Parent directories are implied; a file may not sit below a
	// non-directory.
	for dir := path.Dir(f.Path); dir != "."; dir = path.Dir(dir) {
		if p, ok := b.files[dir]; ok && p.Type != TypeDir {
			return fmt.Errorf("entry %q is below %q, which is not a directory", f.Path, dir)
		}
	}
	ff := f
	b.files[f.Path] = &ff
	return nil
}

// checkLink refuses link targets outside the tree.
func checkLink(p, target string) error {
	if target == "" || path.IsAbs(target) {
		return fmt.Errorf("link %q points outside the feature folder (%q)", p, target)
	}
	resolved := path.Join(path.Dir(p), target)
	if resolved == ".." || len(resolved) >= 3 && resolved[:3] == "../" {
		return fmt.Errorf("link %q points outside the feature folder (%q)", p, target)
	}
	return nil
}

func (b *builder) tree() *Tree {
	// Add implied parent directories.
	for p := range b.files {
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			if _, ok := b.files[dir]; !ok {
				b.files[dir] = &File{Path: dir, Type: TypeDir, Mode: 0o755}
			}
		}
	}
	t := &Tree{Files: make([]File, 0, len(b.files))}
	for _, f := range b.files {
		t.Files = append(t.Files, *f)
	}
	sort.Slice(t.Files, func(i, j int) bool { return t.Files[i].Path < t.Files[j].Path })
	return t
}
