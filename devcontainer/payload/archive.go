package payload

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ArchiveOptions control ReadArchive.
type ArchiveOptions struct {
	Limits Limits
	// TarballFilter drops what the reference drops when it extracts a
	// tarball-URL feature: entries whose name starts with "./." and
	// "./devcontainer-features.tgz". OCI layers keep everything.
	TarballFilter bool
}

// ReadArchive reads a feature archive (plain tar, or gzip-compressed tar
// detected by its magic bytes, as node-tar does) into a tree, enforcing the
// limits and refusing unsafe entries. Hard links become copies of the file
// they name.
func ReadArchive(r io.Reader, o ArchiveOptions) (*Tree, error) {
	b := newBuilder(o.Limits)
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		zr.Multistream(true)
		r = zr
	} else {
		r = br
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("tar: %w", err)
		}
		if o.TarballFilter && (strings.HasPrefix(h.Name, "./.") || h.Name == "./devcontainer-features.tgz") {
			continue
		}
		name, err := cleanName(h.Name)
		if err != nil {
			return nil, err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := b.add(File{Path: name, Type: TypeDir, Mode: h.FileInfo().Mode().Perm()}); err != nil {
				return nil, err
			}
		case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
			if h.Size > b.limits.MaxFileSize || h.Size < 0 {
				return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrLimit, name, b.limits.MaxFileSize)
			}
			var buf bytes.Buffer
			if _, err := io.CopyN(&buf, tr, h.Size); err != nil {
				return nil, fmt.Errorf("tar: %s: %w", name, err)
			}
			if err := b.add(File{Path: name, Type: TypeFile, Mode: h.FileInfo().Mode().Perm(), Data: buf.Bytes()}); err != nil {
				return nil, err
			}
		case tar.TypeSymlink:
			if err := b.add(File{Path: name, Type: TypeSymlink, Mode: 0o777, Link: h.Linkname}); err != nil {
				return nil, err
			}
		case tar.TypeLink:
			target, err := cleanName(h.Linkname)
			if err != nil {
				return nil, fmt.Errorf("hard link %q: %w", name, err)
			}
			f, ok := b.files[target]
			if !ok || f.Type != TypeFile {
				return nil, fmt.Errorf("hard link %q names %q, which is not an earlier file of the archive", name, h.Linkname)
			}
			if err := b.add(File{Path: name, Type: TypeFile, Mode: h.FileInfo().Mode().Perm(), Data: f.Data}); err != nil {
				return nil, err
			}
		case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
			// Handled by archive/tar.
		default:
			return nil, fmt.Errorf("entry %q has an unsupported type %q (only files, folders and links)", name, string(h.Typeflag))
		}
	}
	return b.tree(), nil
}
