package build

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/containerd/platforms"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/devcache/devcache/plugin/registry"
)

// MergeIndexes pushes, by digest, the one image index of a build whose
// platforms several builder nodes built, each pushing an index of its
// platforms (parts, digests in repo): their manifests in the order of
// ps (the order one node would have written them), attestation
// manifests after them, and annotations. The bytes are those BuildKit's
// image exporter writes for the whole set on one node, so the digest is
// the same however the platforms were spread over nodes.
func MergeIndexes(ctx context.Context, reg *registry.Client, repo name.Repository, parts []string, ps []string, annotations map[string]string) (string, error) {
	var mfsts, atts []ocispecs.Descriptor
	for _, d := range parts {
		desc, err := remote.Get(repo.Digest(d), reg.Options(ctx)...)
		if err != nil {
			return "", fmt.Errorf("reading the index a builder node pushed, %s@%s: %w", repo, d, err)
		}
		var idx ocispecs.Index
		if err := json.Unmarshal(desc.Manifest, &idx); err != nil || idx.MediaType != ocispecs.MediaTypeImageIndex {
			return "", fmt.Errorf("%s@%s is not an OCI image index (a builder node older than BuildKit v0.13?)", repo, d)
		}
		for _, m := range idx.Manifests {
			if _, ok := m.Annotations["vnd.docker.reference.type"]; ok {
				atts = append(atts, m)
			} else {
				mfsts = append(mfsts, m)
			}
		}
	}
	ordered, err := orderByPlatform(mfsts, ps)
	if err != nil {
		return "", err
	}
	idx := ocispecs.Index{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   ocispecs.MediaTypeImageIndex,
		Manifests:   append(ordered, atts...),
		Annotations: annotations,
	}
	raw, err := json.MarshalIndent(idx, "", "  ") // as BuildKit's exporter
	if err != nil {
		return "", err
	}
	dgst := digest.FromBytes(raw).String()
	if err := remote.Put(repo.Digest(dgst), rawManifest{raw, types.OCIImageIndex}, reg.Options(ctx)...); err != nil {
		return "", fmt.Errorf("pushing the index of all platforms to %s: %w", repo, err)
	}
	return dgst, nil
}

// orderByPlatform orders the manifests as platforms lists them.
func orderByPlatform(mfsts []ocispecs.Descriptor, ps []string) ([]ocispecs.Descriptor, error) {
	out := make([]ocispecs.Descriptor, 0, len(mfsts))
	for _, p := range ps {
		want, err := platforms.Parse(p)
		if err != nil {
			return nil, fmt.Errorf("platform %q: %w", p, err)
		}
		found := false
		for _, m := range mfsts {
			if m.Platform != nil && platforms.Format(platforms.Normalize(*m.Platform)) == platforms.Format(want) {
				out = append(out, m)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("no builder node pushed a manifest for %s", p)
		}
	}
	return out, nil
}

// rawManifest is a manifest to push as it is.
type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }
