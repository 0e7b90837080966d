package payload

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadArchiveSafety(t *testing.T) {
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"dotdot":        {tarBytes(&tar.Header{Name: "./../evil", Typeflag: tar.TypeReg}), "escapes the feature folder"},
		"absolute":      {tarBytes(&tar.Header{Name: "/etc/passwd", Typeflag: tar.TypeReg}), "absolute path"},
		"abs link":      {tarBytes(&tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "/etc"}), "points outside"},
		"up link":       {tarBytes(&tar.Header{Name: "a/l", Typeflag: tar.TypeSymlink, Linkname: "../../x"}), "points outside"},
		"through link":  {tarBytes(&tar.Header{Name: "d", Typeflag: tar.TypeSymlink, Linkname: "sub"}, &tar.Header{Name: "d/f", Typeflag: tar.TypeReg}), "not a directory"},
		"hard link out": {tarBytes(&tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "../x"}), "escapes"},
		"device":        {tarBytes(&tar.Header{Name: "dev", Typeflag: tar.TypeChar}), "unsupported type"},
	} {
		_, err := ReadArchive(bytes.NewReader(c.data), ArchiveOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	big := tarBytes(&tar.Header{Name: "big", Typeflag: tar.TypeReg, Size: 3})
	if _, err := ReadArchive(bytes.NewReader(big), ArchiveOptions{Limits: Limits{MaxFiles: 10, MaxFileSize: 2, MaxTotalSize: 10}}); !errors.Is(err, ErrLimit) {
		t.Errorf("file size limit: %v", err)
	}
	many := tarBytes(&tar.Header{Name: "a", Typeflag: tar.TypeReg}, &tar.Header{Name: "b", Typeflag: tar.TypeReg})
	if _, err := ReadArchive(bytes.NewReader(many), ArchiveOptions{Limits: Limits{MaxFiles: 1, MaxFileSize: 10, MaxTotalSize: 10}}); !errors.Is(err, ErrLimit) {
		t.Errorf("file count limit: %v", err)
	}
}

func TestReadArchiveContent(t *testing.T) {
	data := tarBytes(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755},
		&tar.Header{Name: "./install.sh", Typeflag: tar.TypeReg, Mode: 0o755},
		&tar.Header{Name: "./.hidden", Typeflag: tar.TypeReg},
		&tar.Header{Name: "./devcontainer-features.tgz", Typeflag: tar.TypeReg},
		&tar.Header{Name: "lib/x", Typeflag: tar.TypeReg},
		&tar.Header{Name: "lib/h", Typeflag: tar.TypeLink, Linkname: "lib/x"},
		&tar.Header{Name: "lib/l", Typeflag: tar.TypeSymlink, Linkname: "x"})
	for _, c := range []struct {
		gzip, filter bool
		want         string
	}{
		{false, false, ".hidden devcontainer-features.tgz install.sh lib lib/h lib/l lib/x"},
		{true, true, "install.sh lib lib/h lib/l lib/x"},
	} {
		in := data
		if c.gzip {
			in = gz(data)
		}
		tree, err := ReadArchive(bytes.NewReader(in), ArchiveOptions{TarballFilter: c.filter})
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, f := range tree.Files {
			paths = append(paths, f.Path)
		}
		if strings.Join(paths, " ") != c.want {
			t.Errorf("paths %v, want %s", paths, c.want)
		}
		if h, _ := tree.Get("lib/h"); string(h.Data) != "lib/x" {
			t.Errorf("hard link content %q", h.Data)
		}
	}
}

func TestDigestIgnoresModesAndTimes(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "install.sh"), []byte("x"), 0o755)
	a, err := ReadDir(dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "install.sh"), 0o600)
	b, _ := ReadDir(dir, Limits{})
	if a.Digest() != b.Digest() {
		t.Error("mode changed the digest")
	}
	os.WriteFile(filepath.Join(dir, "install.sh"), []byte("y"), 0o755)
	c, _ := ReadDir(dir, Limits{})
	if c.Digest() == a.Digest() {
		t.Error("content did not change the digest")
	}
	out := t.TempDir()
	if err := c.WriteDir(out); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "install.sh")); string(b) != "y" {
		t.Errorf("written %q", b)
	}
}
