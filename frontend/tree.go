package frontend

import (
	"context"
	"io/fs"
	"path"

	"github.com/devcache/devcache/devcontainer/payload"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/pkg/errors"
)

// readTree reads the files below dir of a solved reference through the
// gateway into a payload tree, with the limits and link checks the client
// applies, so that its Digest is the content digest the plugin computes
// from the same files (payload.ReadDir, payload.ReadArchive).
func readTree(ctx context.Context, ref client.Reference, dir string) (*payload.Tree, error) {
	l := payload.DefaultLimits
	var (
		files []payload.File
		total int64
	)
	var walk func(rel string) error
	walk = func(rel string) error {
		entries, err := ref.ReadDir(ctx, client.ReadDirRequest{Path: path.Join(dir, rel)})
		if err != nil {
			return err
		}
		for _, e := range entries {
			p := path.Join(rel, path.Base(e.GetPath()))
			mode := fs.FileMode(e.GetMode())
			if len(files) >= l.MaxFiles {
				return errors.Wrapf(payload.ErrLimit, "more than %d entries", l.MaxFiles)
			}
			switch {
			case mode.IsDir():
				files = append(files, payload.File{Path: p, Type: payload.TypeDir, Mode: mode.Perm()})
				if err := walk(p); err != nil {
					return err
				}
			case mode&fs.ModeSymlink != 0:
				files = append(files, payload.File{Path: p, Type: payload.TypeSymlink, Mode: 0o777, Link: e.GetLinkname()})
			case mode.IsRegular():
				if total += e.GetSize(); e.GetSize() > l.MaxFileSize || total > l.MaxTotalSize {
					return errors.Wrapf(payload.ErrLimit, "%s: over %d bytes", p, l.MaxFileSize)
				}
				data, err := ref.ReadFile(ctx, client.ReadRequest{Filename: path.Join(dir, p)})
				if err != nil {
					return err
				}
				files = append(files, payload.File{Path: p, Type: payload.TypeFile, Mode: mode.Perm(), Data: data})
			default:
				return errors.Errorf("%s: unsupported file type %s (only files, folders and links)", p, mode.Type())
			}
		}
		return nil
	}
	if err := walk(""); err != nil {
		return nil, err
	}
	return payload.FromFiles(files, l)
}
