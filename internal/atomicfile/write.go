package atomicfile

import (
	"bytes"
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
// permission bits; a new file gets perm. The directory must exist. A
// device or pipe (--metadata-file /dev/stdout) cannot be replaced: it is
// written to.
func Write(path string, data []byte, perm fs.FileMode) error {
	target, perm, inPlace, err := destination(path, perm)
	if err != nil {
		return err
	}
	if inPlace {
		return writeInPlace(target, bytes.NewReader(data))
	}
	return atomicwriter.WriteFile(target, data, perm)
}

// WriteFrom replaces path with what r yields, streamed through a temporary
// file in the same directory that is renamed over path only when r ended
// without error; any read error (a dropped connection, a digest mismatch
// that a verifying reader reports at EOF) leaves path untouched.
// atomicwriter cannot abandon a stream once written to, which is why
// streams of unbounded size (image layers) take this path. Links, modes
// and devices are handled as by Write.
func WriteFrom(path string, r io.Reader, perm fs.FileMode) (err error) {
	target, perm, inPlace, err := destination(path, perm)
	if err != nil {
		return err
	}
	if inPlace {
		return writeInPlace(target, r)
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

// destination returns the file to replace for path (a link's target) and
// the mode to give it (the existing file's, else perm), or inPlace for a
// device or pipe, which is written to as it is.
func destination(path string, perm fs.FileMode) (target string, mode fs.FileMode, inPlace bool, err error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return absentTarget(path), perm, false, nil
	case err != nil:
		return "", 0, false, err
	case fi.IsDir():
		return "", 0, false, fmt.Errorf("%s is a directory; name a file to write", path)
	case !fi.Mode().IsRegular():
		return path, 0, true, nil
	}
	target, err = filepath.EvalSymlinks(path)
	if err != nil {
		return "", 0, false, fmt.Errorf("resolving %s: %w", path, err)
	}
	return target, fi.Mode().Perm(), false, nil
}

// absentTarget is path, or where path points when it is a dangling link.
func absentTarget(path string) string {
	for range 40 {
		dest, err := os.Readlink(path)
		if err != nil {
			return path
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(path), dest)
		}
		path = dest
	}
	return path
}

func writeInPlace(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
