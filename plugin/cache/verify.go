package cache

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/plugin/registry"
)

// Verify checks that desc, read back from repo by digest, is complete
// there: every manifest of an index, and every config and layer blob of
// every image, exists. Push calls it before it writes a key tag, so that a
// key tag never points at an image with a missing part. The error names
// the missing or unreadable part.
func Verify(ctx context.Context, reg *registry.Client, repo name.Repository, desc *remote.Descriptor) error {
	if !desc.MediaType.IsIndex() {
		img, err := desc.Image()
		if err != nil {
			return fmt.Errorf("reading %s@%s: %w", repo, desc.Digest, err)
		}
		return verifyImage(ctx, reg, repo, desc.Digest, img)
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		return fmt.Errorf("reading %s@%s: %w", repo, desc.Digest, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return fmt.Errorf("reading %s@%s: %w", repo, desc.Digest, err)
	}
	for _, m := range im.Manifests {
		child, err := remote.Get(repo.Digest(m.Digest.String()), reg.Options(ctx)...)
		if err != nil {
			return fmt.Errorf("%s@%s: manifest %s: %w", repo, desc.Digest, m.Digest, err)
		}
		if child.MediaType.IsIndex() {
			continue // not made by push
		}
		img, err := child.Image()
		if err != nil {
			return fmt.Errorf("%s@%s: %w", repo, m.Digest, err)
		}
		if err := verifyImage(ctx, reg, repo, m.Digest, img); err != nil {
			return err
		}
	}
	return nil
}

// verifyImage checks that the config and layer blobs of img exist in repo.
func verifyImage(ctx context.Context, reg *registry.Client, repo name.Repository, d v1.Hash, img v1.Image) error {
	m, err := img.Manifest()
	if err != nil {
		return fmt.Errorf("%s@%s: %w", repo, d, err)
	}
	blobs := []v1.Hash{m.Config.Digest}
	for _, l := range m.Layers {
		blobs = append(blobs, l.Digest)
	}
	for _, b := range blobs {
		if err := reg.HasBlob(ctx, repo, b); err != nil {
			return fmt.Errorf("%s@%s: blob %s: %w", repo, d, b, err)
		}
	}
	return nil
}
