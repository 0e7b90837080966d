package payload

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFromFilesMatchesReadDir lists a folder by hand (as the frontend does
// through the gateway, without implied directories) and gets ReadDir's
// digest; the same safety checks apply.
func TestFromFilesMatchesReadDir(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "lib", "empty"), 0o755)
	os.WriteFile(filepath.Join(dir, "install.sh"), []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "lib", "a.sh"), []byte("a\n"), 0o644)
	os.Symlink("a.sh", filepath.Join(dir, "lib", "b.sh"))
	want, err := ReadDir(dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := FromFiles([]File{
		{Path: "lib/a.sh", Type: TypeFile, Data: []byte("a\n")},
		{Path: "./install.sh", Type: TypeFile, Mode: 0o600, Data: []byte("#!/bin/sh\n")},
		{Path: "lib/b.sh", Type: TypeSymlink, Link: "a.sh"},
		{Path: "lib/empty", Type: TypeDir},
	}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest() != want.Digest() {
		t.Errorf("FromFiles digest %s, ReadDir %s", got.Digest(), want.Digest())
	}
	for name, f := range map[string]File{
		"escapes":        {Path: "../x", Type: TypeFile},
		"points outside": {Path: "l", Type: TypeSymlink, Link: "/etc"},
	} {
		if _, err := FromFiles([]File{f}, Limits{}); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%+v: %v, want %q", f, err, name)
		}
	}
	if _, err := FromFiles([]File{{Path: "a", Type: TypeFile}, {Path: "b", Type: TypeFile}}, Limits{MaxFiles: 1, MaxFileSize: 1, MaxTotalSize: 1}); err == nil {
		t.Error("no error over the file limit")
	}
}
