package payload

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ReadDir reads a local feature folder into a tree (what the reference
// copies into the staging folder), with the same limits and link checks as
// archives.
func ReadDir(dir string, l Limits) (*Tree, error) {
	b := newBuilder(l)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return b.add(File{Path: rel, Type: TypeDir, Mode: info.Mode().Perm()})
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return b.add(File{Path: rel, Type: TypeSymlink, Mode: 0o777, Link: filepath.ToSlash(target)})
		case info.Mode().IsRegular():
			if info.Size() > b.limits.MaxFileSize {
				return fmt.Errorf("%w: %s is larger than %d bytes", ErrLimit, rel, b.limits.MaxFileSize)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return b.add(File{Path: rel, Type: TypeFile, Mode: info.Mode().Perm(), Data: data})
		}
		return fmt.Errorf("%s: unsupported file type %s (only files, folders and links)", rel, info.Mode().Type())
	})
	if err != nil {
		return nil, err
	}
	return b.tree(), nil
}
