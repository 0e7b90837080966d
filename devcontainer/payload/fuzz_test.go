package payload

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"path"
	"strings"
	"testing"
)

func tarBytes(entries ...*tar.Header) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range entries {
		if h.Typeflag == tar.TypeReg && h.Size == 0 {
			h.Size = int64(len(h.Name))
		}
		tw.WriteHeader(h)
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(h.Name)[:h.Size])
		}
	}
	tw.Close()
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// FuzzReadArchive: any bytes give a safe tree or an error; never a panic,
// never a path or link outside the tree, never more than the limits.
func FuzzReadArchive(f *testing.F) {
	ok := tarBytes(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755},
		&tar.Header{Name: "./install.sh", Typeflag: tar.TypeReg, Mode: 0o755},
		&tar.Header{Name: "./devcontainer-feature.json", Typeflag: tar.TypeReg, Mode: 0o644},
		&tar.Header{Name: "./.hidden", Typeflag: tar.TypeReg},
		&tar.Header{Name: "./lib/link", Typeflag: tar.TypeSymlink, Linkname: "../install.sh"})
	f.Add(ok, false)
	f.Add(gz(ok), true)
	f.Add(tarBytes(&tar.Header{Name: "../evil", Typeflag: tar.TypeReg}), false)
	f.Add(tarBytes(&tar.Header{Name: "a", Typeflag: tar.TypeSymlink, Linkname: "/etc"}, &tar.Header{Name: "a/b", Typeflag: tar.TypeReg}), false)
	f.Add(tarBytes(&tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "/etc/passwd"}), false)
	limits := Limits{MaxFiles: 50, MaxFileSize: 1 << 16, MaxTotalSize: 1 << 18}
	f.Fuzz(func(t *testing.T, data []byte, tarballFilter bool) {
		tree, err := ReadArchive(bytes.NewReader(data), ArchiveOptions{Limits: limits, TarballFilter: tarballFilter})
		if err != nil {
			return
		}
		if len(tree.Files) > limits.MaxFiles*8 || tree.Size() > limits.MaxTotalSize {
			t.Fatalf("limits exceeded: %d files, %d bytes", len(tree.Files), tree.Size())
		}
		for _, f := range tree.Files {
			if f.Path == "" || path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path || f.Path == ".." || strings.HasPrefix(f.Path, "../") {
				t.Fatalf("unsafe path %q", f.Path)
			}
			if f.Type == TypeSymlink {
				r := path.Join(path.Dir(f.Path), f.Link)
				if path.IsAbs(f.Link) || r == ".." || strings.HasPrefix(r, "../") {
					t.Fatalf("link %q -> %q escapes", f.Path, f.Link)
				}
			}
		}
		_ = tree.Digest()
	})
}
