package plan

import (
	"context"
	"fmt"

	"github.com/devcache/devcache/internal/dockerfile"
)

// ImagePin is an image a Dockerfile build reads: the FROM of any stage,
// COPY --from=<image> or RUN --mount=from=<image>, with
// the digest its tag pointed to when the Plan was made (an index or a
// manifest), so that a moved tag changes the key.
type ImagePin struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
}

// dockerfileImages resolves every external image the stages the target
// needs name (dockerfile.Summary.ExternalImages), sorted by reference. A
// "# syntax=" frontend is not pinned yet (clients often cannot reach the
// registry their builder mirrors it from); its reference is in the Plan's
// Dockerfile content.
func dockerfileImages(ctx context.Context, r Resolver, s *dockerfile.Summary, platform string) ([]ImagePin, error) {
	refs := s.ExternalImages(true)
	pins := make([]ImagePin, 0, len(refs))
	for _, ref := range refs {
		img, err := r.ResolveImage(ctx, ref.Ref, platform)
		if err != nil {
			return nil, fmt.Errorf("line %d: %s %q: %w", ref.Line, ref.Use, ref.Ref, err)
		}
		d := img.Digest
		if d == "" {
			d = img.ManifestDigest
		}
		pins = append(pins, ImagePin{Ref: ref.Ref, Digest: d})
	}
	return pins, nil
}
