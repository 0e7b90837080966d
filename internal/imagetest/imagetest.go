// Package imagetest reads built images back from a registry for tests: the
// config and the flattened filesystem, so tests can assert what a build
// produced.
package imagetest

import (
	"archive/tar"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// LargeFile stands for the content of files of MaxContent bytes or more.
const LargeFile = "<large file>"

// MaxContent bounds the file contents Read keeps.
const MaxContent = 1 << 20

// Image is an image read back from a registry.
type Image struct {
	Config *v1.ConfigFile
	Digest v1.Hash
	// Layers is the number of layers.
	Layers int
	// Files maps "/path" to the content of each regular file (LargeFile
	// when too big), "<symlink to T>" for symlinks; directories are
	// "/path/" with empty content.
	Files map[string]string
}

// Read reads ref's config and flattened filesystem.
func Read(ref string) (*Image, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ref, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	out := &Image{Config: cfg, Digest: d, Layers: len(layers), Files: map[string]string{}}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read the filesystem of %s: %w", ref, err)
		}
		p := "/" + strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		switch h.Typeflag {
		case tar.TypeReg:
			content := LargeFile
			if h.Size < MaxContent {
				b, err := io.ReadAll(tr)
				if err != nil {
					return nil, err
				}
				content = string(b)
			}
			out.Files[p] = content
		case tar.TypeSymlink:
			out.Files[p] = "<symlink to " + h.Linkname + ">"
		case tar.TypeDir:
			out.Files[strings.TrimSuffix(p, "/")+"/"] = ""
		}
	}
	return out, nil
}
