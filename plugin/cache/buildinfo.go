package cache

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/devcache/devcache/internal/version"
	"github.com/devcache/devcache/plugin/registry"
)

// A cache entry's image is reproducible: two builders pushing one Plan
// push the same bytes, so its manifest cannot say when or how fast it was
// built. That is recorded beside it instead, in a build-info artifact whose
// subject is the image (an OCI 1.1 referrer; registries without the
// referrers API get go-containerregistry's sha256-<hex> fallback tag).
const (
	// BuildInfoArtifactType is the build-info artifact's type.
	BuildInfoArtifactType = "application/vnd.devcache.build-info.v1+json"
	// AnnotationBuildDuration is the build's wall time in seconds
	// (decimal), as measured by the pushing client.
	AnnotationBuildDuration = "dev.devcache.build.duration"
	// AnnotationKey is the entry's key ("sha256:…" over the Plans).
	AnnotationKey = "dev.devcache.key"
	// AnnotationKeyInputs is a one-line summary of what the key hashes.
	AnnotationKeyInputs = "dev.devcache.key.inputs"
	// AnnotationVersion is the devcache version that pushed the entry.
	AnnotationVersion = "dev.devcache.version"
)

// BuildInfo is what the artifact records (AnnotationCreated is the push
// time). Version defaults to this devcache's version when written.
type BuildInfo struct {
	Key       string
	KeyInputs string
	Duration  time.Duration
	Created   time.Time
	Version   string
}

func (b BuildInfo) annotations() map[string]string {
	return map[string]string{
		AnnotationKey:           b.Key,
		AnnotationKeyInputs:     b.KeyInputs,
		AnnotationBuildDuration: strconv.FormatFloat(b.Duration.Seconds(), 'f', 3, 64),
		AnnotationCreated:       b.Created.UTC().Format(time.RFC3339Nano),
		AnnotationVersion:       b.Version,
	}
}

// WriteBuildInfo pushes the build-info artifact of subject to repo.
func WriteBuildInfo(ctx context.Context, r *registry.Client, repo name.Repository, subject *remote.Descriptor, info BuildInfo) error {
	if info.Version == "" {
		info.Version = version.Version
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.MediaType(BuildInfoArtifactType))
	img = mutate.Annotations(img, info.annotations()).(v1.Image)
	img = mutate.Subject(img, subject.Descriptor).(v1.Image)
	d, err := img.Digest()
	if err != nil {
		return err
	}
	if err := remote.Write(repo.Digest(d.String()), img, r.Options(ctx)...); err != nil {
		return fmt.Errorf("recording the build info of %s@%s: %w", repo, subject.Digest, err)
	}
	return nil
}

// ReadBuildInfo reads the newest build-info artifact of repo@digest; ok is
// false when there is none (an entry pushed by another tool).
func ReadBuildInfo(ctx context.Context, r *registry.Client, repo name.Repository, digest v1.Hash) (info BuildInfo, ok bool, err error) {
	idx, err := remote.Referrers(repo.Digest(digest.String()), append(r.Options(ctx), remote.WithFilter("artifactType", BuildInfoArtifactType))...)
	if err != nil {
		if registry.IsNotFound(err) {
			return info, false, nil
		}
		return info, false, fmt.Errorf("reading the build info of %s@%s: %w", repo, digest, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return info, false, err
	}
	for _, m := range im.Manifests {
		if m.ArtifactType != BuildInfoArtifactType {
			continue
		}
		var cand BuildInfo
		cand.Key = m.Annotations[AnnotationKey]
		cand.KeyInputs = m.Annotations[AnnotationKeyInputs]
		cand.Version = m.Annotations[AnnotationVersion]
		if s, err := strconv.ParseFloat(m.Annotations[AnnotationBuildDuration], 64); err == nil {
			cand.Duration = time.Duration(s * float64(time.Second))
		}
		if t, err := time.Parse(time.RFC3339Nano, m.Annotations[AnnotationCreated]); err == nil {
			cand.Created = t
		}
		if !ok || cand.Created.After(info.Created) {
			info, ok = cand, true
		}
	}
	return info, ok, nil
}
