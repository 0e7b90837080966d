// Package disktest gives tests a full filesystem: a small tmpfs mounted on
// a temporary directory and filled up, so that writes fail with ENOSPC as
// on a full CI disk. Mounting needs root (as the test stack does); without
// it the test is skipped, or failed under CI=true. It is for tests only and
// imports nothing of devcache.
package disktest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Full mounts a tmpfs of mib MiB on a new directory, fills it until no
// byte is left, and unmounts it when the test ends. Remove the file
// Filler(dir) to free the space.
func Full(t testing.TB, mib int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%dm,mode=0777", mib)); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("disktest: mounting a tmpfs (root needed): %v", err)
		}
		t.Skipf("disktest: mounting a tmpfs (root needed): %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	f, err := os.Create(Filler(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("disktest: filling %s: %v", dir, err)
			}
			break
		}
	}
	// Fill the last partial block too.
	for {
		if _, err := f.Write(buf[:1]); err != nil {
			break
		}
	}
	return dir
}

// Filler is the file that fills dir.
func Filler(dir string) string { return filepath.Join(dir, ".filler") }
