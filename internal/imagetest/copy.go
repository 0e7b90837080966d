package imagetest

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Copy copies the image or index src to dst (registries on loopback speak
// plain HTTP), so a test can offer the same content under another name.
func Copy(src, dst string) error {
	s, err := name.ParseReference(src)
	if err != nil {
		return err
	}
	d, err := name.ParseReference(dst)
	if err != nil {
		return err
	}
	desc, err := remote.Get(s)
	if err != nil {
		return fmt.Errorf("reading %s: %w", src, err)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return err
		}
		return remote.WriteIndex(d, idx)
	}
	img, err := desc.Image()
	if err != nil {
		return err
	}
	return remote.Write(d, img)
}
