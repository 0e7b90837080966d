package atomicfile

import (
	"errors"
	"io/fs"
	"os"
)

// LockSuffix names the lock file of Update: path + LockSuffix, next to it.
const LockSuffix = ".lock"

// Update read-modify-writes path under the lock path+LockSuffix: fn gets
// the current content (nil when path does not exist) and returns the new
// content, which replaces path atomically; fn returning nil bytes and no
// error writes nothing. Concurrent Updates of one path, in any processes,
// run one after the other, so none loses another's change.
func Update(path string, perm fs.FileMode, fn func(current []byte) ([]byte, error)) (err error) {
	unlock, err := Lock(path + LockSuffix)
	if err != nil {
		return err
	}
	defer func() {
		if uerr := unlock(); err == nil {
			err = uerr
		}
	}()
	current, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	next, err := fn(current)
	if err != nil || next == nil {
		return err
	}
	return Write(path, next, perm)
}
