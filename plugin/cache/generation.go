package cache

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/plugin/registry"
)

// Stale reads the entry under the pointer tag and says why it is older
// than maxAge ("" when it is not). Its age is ReadEntry's Created: the push
// time its build-info referrer records, else the image's created. An entry
// of unknown age is an error: maxAge cannot be applied to it. setting
// names maxAge in messages (--max-age, max_age).
func Stale(ctx context.Context, reg *registry.Client, repo name.Repository, tag string, maxAge time.Duration, setting string, now time.Time) (*Entry, string, error) {
	e, err := ReadEntry(ctx, reg, repo, tag)
	if err != nil {
		return nil, "", fmt.Errorf("reading the age of %s:%s: %w", repo, tag, err)
	}
	if e.Created.IsZero() {
		return nil, "", fmt.Errorf("%s:%s records no creation time (no %s annotation, no build info, no config created); cannot apply %s", repo, tag, AnnotationCreated, setting)
	}
	if age := now.Sub(e.Created); maxAge > 0 && age > maxAge {
		return e, fmt.Sprintf("cache entry %s:%s was created %s (%s ago), older than %s %s",
			repo, tag, e.Created.UTC().Format(time.RFC3339), age.Round(time.Second), setting, maxAge), nil
	}
	return e, "", nil
}

// TagGeneration tags desc, the entry of key just stored, with its
// immutable generation tag (GenerationTag).
func TagGeneration(ctx context.Context, reg *registry.Client, repo name.Repository, key string, desc *remote.Descriptor) error {
	t := repo.Tag(GenerationTag(key, desc.Digest))
	if err := remote.Tag(t, desc, reg.Options(ctx)...); err != nil {
		return fmt.Errorf("tagging the generation %s: %w", t, err)
	}
	return nil
}

// Replace moves the pointer tag from a stale generation to built, the
// rebuilt entry. Pushes that rebuild the same stale entry at once each
// move it; the last write stands, and each generation they wrote is fresh.
func Replace(ctx context.Context, reg *registry.Client, repo name.Repository, tag string, built *remote.Descriptor) error {
	if err := remote.Tag(repo.Tag(tag), built, reg.Options(ctx)...); err != nil {
		return fmt.Errorf("moving %s:%s to the rebuilt %s (a registry with immutable tags refuses this: let dc-* tags be overwritten, or prune the stale entry first): %w", repo, tag, built.Digest, err)
	}
	return nil
}

// PointPlatforms points the pointer tag of each platform's own key
// (PlatformKeys) at desc, a multi-platform entry, so that a probe for one
// platform of the set hits it. A platform pointer that exists is left
// alone (another entry, e.g. a single-platform push, holds it) unless it
// names previous, the generation desc replaces.
func PointPlatforms(ctx context.Context, reg *registry.Client, repo name.Repository, keys []string, desc *remote.Descriptor, previous *v1.Hash) error {
	for _, k := range keys {
		ref := repo.Tag(TagOf(k))
		d, err := reg.Head(ctx, ref)
		switch {
		case registry.IsNotFound(err):
		case err != nil:
			return fmt.Errorf("looking up the platform pointer %s: %w", ref, err)
		case d == desc.Digest || previous == nil || d != *previous:
			continue
		}
		if err := remote.Tag(ref, desc, reg.Options(ctx)...); err != nil {
			return fmt.Errorf("tagging the platform pointer %s: %w", ref, err)
		}
	}
	return nil
}
