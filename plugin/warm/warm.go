package warm

import (
	"context"
	"fmt"
	"sort"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/devcontainer/features"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/plugin/registry"
)

// Target is one reference to have in the layout for a platform ("" for
// feature artifacts).
type Target struct {
	Ref string `json:"ref"`
	// As is the reference as the config wrote it (a tag), recorded so
	// that builds can resolve it from the layout offline.
	As       string `json:"as,omitempty"`
	Platform string `json:"platform,omitempty"`
	// Digest is what the reference points to; Stored the manifest stored.
	Digest string `json:"digest"`
	Stored string `json:"stored"`
	// Fetched is false when the layout already held it.
	Fetched bool `json:"fetched"`
	Blobs   int  `json:"blobsDownloaded"`
}

// TargetsOf lists what plans pull, all by digest: the base image, every
// external image the Dockerfile names, and the OCI features.
func TargetsOf(plans []*plan.Plan) []Target {
	var out []Target
	for _, pl := range plans {
		if img := pl.Base.Image; img != nil {
			out = append(out, Target{Ref: repoOf(img.Ref) + "@" + img.Digest, As: img.Ref, Platform: pl.Platform})
		}
		if df := pl.Base.Dockerfile; df != nil {
			for _, im := range df.Images {
				out = append(out, Target{Ref: repoOf(im.Ref) + "@" + im.Digest, As: im.Ref, Platform: pl.Platform})
			}
		}
		for _, f := range pl.Features {
			if f.Source.Kind == features.KindOCI {
				t := Target{Ref: f.Source.Repository + "@" + f.Source.ManifestDigest}
				if o, err := features.ParseOCIRef(features.BackwardCompatibleID(f.UserFeatureID)); err == nil && o.Tag != "" && o.Digest == "" {
					t.As = FeatureTagRef(o)
				}
				out = append(out, t)
			}
		}
	}
	return out
}

// repoOf returns the repository part of an image reference (no tag/digest).
func repoOf(ref string) string {
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return n.Name()
}

// Dedupe drops repeated (reference, platform) targets and sorts them.
func Dedupe(ts []Target) []Target {
	seen := map[string]bool{}
	var out []Target
	for _, t := range ts {
		k := t.Ref + "\x00" + t.Platform
		if !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Ref+out[i].Platform < out[j].Ref+out[j].Platform })
	return out
}

// One makes sure the layout holds t: no request for a digest already
// there, one HEAD for a tag whose digest is there, else a fetch of what is
// missing. It fills t's Digest, Stored, Fetched and Blobs.
func One(ctx context.Context, reg *registry.Client, lay *Layout, t *Target) error {
	ref, err := name.ParseReference(t.Ref)
	if err != nil {
		return fmt.Errorf("warming %q: %w", t.Ref, err)
	}
	pointedTo := ""
	if d, ok := ref.(name.Digest); ok {
		pointedTo = d.DigestStr()
	} else {
		h, err := reg.Head(ctx, ref)
		if err != nil {
			return fmt.Errorf("warming %s: %w", t.Ref, err)
		}
		pointedTo = h.String()
	}
	t.Digest = pointedTo
	if d, ok := lay.Find(pointedTo, t.Platform); ok {
		t.Stored = d.Digest.String()
		return nil
	}
	img, err := fetch(ctx, reg, ref.Context().Digest(pointedTo), t)
	if err != nil {
		return err
	}
	as := t.As
	if as == "" {
		if _, isTag := ref.(name.Tag); isTag {
			as = t.Ref
		}
	}
	n, err := lay.Add(img, t.Ref, as, pointedTo, t.Platform)
	if err != nil {
		return fmt.Errorf("warming %s: %w", t.Ref, err)
	}
	d, _ := img.Digest()
	t.Stored, t.Fetched, t.Blobs = d.String(), true, n
	return nil
}

// fetch reads the image of t at ref (by digest), choosing t's platform
// from an index.
func fetch(ctx context.Context, reg *registry.Client, ref name.Digest, t *Target) (v1.Image, error) {
	desc, err := remote.Get(ref, reg.Options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("warming %s: %w", t.Ref, err)
	}
	if !desc.MediaType.IsIndex() {
		img, err := desc.Image()
		if err != nil {
			return nil, fmt.Errorf("warming %s: %w", t.Ref, err)
		}
		return img, nil
	}
	if t.Platform == "" {
		return nil, fmt.Errorf("warming %s: an index needs a platform", t.Ref)
	}
	p, err := v1.ParsePlatform(t.Platform)
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(ref, append(reg.Options(ctx), remote.WithPlatform(*p))...)
	if err != nil {
		return nil, fmt.Errorf("warming %s for %s: %w", t.Ref, t.Platform, err)
	}
	return img, nil
}
