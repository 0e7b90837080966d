package atomicfile

import (
	"fmt"
	"os"
)

// Lock takes an exclusive lock on the file at path (created when missing),
// waiting while another process or goroutine holds it. The lock is
// advisory: it excludes only other callers of Lock on the same path. It
// dies with the process, so a crashed holder never wedges the next one.
// unlock releases it.
func Lock(path string) (unlock func() error, err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the lock file %s: %w", path, err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() error {
		err := unlockFile(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}, nil
}
