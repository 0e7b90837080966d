package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/moby/sys/atomicwriter"
)

// Write replaces path with data atomically. A symbolic link is followed (its
// target is replaced, the link stays), and an existing file keeps its
// permission bits; a new file gets perm. The directory must exist.
func Write(path string, data []byte, perm fs.FileMode) error {
	target, perm, err := destination(path, perm)
	if err != nil {
		return err
	}
	return atomicwriter.WriteFile(target, data, perm)
}

// WriteFrom replaces path with what r yields, streamed through a temporary
// file in the same directory that is renamed over path only when r ended
// without error; any read error (a dropped connection, a digest mismatch
// that a verifying reader reports at EOF) leaves path untouched.
// atomicwriter cannot abandon a stream once written to, which is why
// streams of unbounded size (image layers) take this path.
func WriteFrom(path string, r io.Reader, perm fs.FileMode) (err error) {
	target, perm, err := destination(path, perm)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), ".tmp-"+filepath.Base(target)+"-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, r); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), perm); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), target)
}

// destination resolves a symbolic link at path to its target and returns
// the mode to write: the existing file's, else perm.
func destination(path string, perm fs.FileMode) (string, fs.FileMode, error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return path, perm, nil
	case err != nil:
		return "", 0, err
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := filepath.EvalSymlinks(path)
		if errors.Is(err, fs.ErrNotExist) {
			// A dangling link: write where it points.
			dest, rerr := os.Readlink(path)
			if rerr != nil {
				return "", 0, rerr
			}
			if !filepath.IsAbs(dest) {
				dest = filepath.Join(filepath.Dir(path), dest)
			}
			return dest, perm, nil
		}
		if err != nil {
			return "", 0, fmt.Errorf("resolving the link %s: %w", path, err)
		}
		return destination(target, perm)
	case !fi.Mode().IsRegular():
		return "", 0, fmt.Errorf("%s is not a regular file (%s); name a file to write", path, fi.Mode().Type())
	}
	return path, fi.Mode().Perm(), nil
}
