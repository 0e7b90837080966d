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

// SelectExpired splits entries (newest first) into those to delete and
// those to keep: per scope the images of the newest keep digests survive,
// then anything older than olderThan goes. Entries of unknown age, and
// entries sharing a digest with a kept one, are kept: the generation a
// pointer names goes only with its pointer, and a pointer's platform
// pointers with it. An older generation is an image of its scope like
// any other.
func SelectExpired(entries []*Entry, now time.Time, olderThan time.Duration, keep int) (del, kept []*Entry) {
	seen := map[string]int{}
	keptDigest := map[string]bool{}
	var candidates []*Entry
	for _, e := range entries {
		if keptDigest[e.Digest.String()] {
			kept = append(kept, e)
			continue
		}
		n := seen[e.Scope]
		seen[e.Scope] = n + 1
		if n < keep || e.Created.IsZero() || now.Sub(e.Created) <= olderThan {
			kept = append(kept, e)
			keptDigest[e.Digest.String()] = true
			continue
		}
		candidates = append(candidates, e)
	}
	for _, e := range candidates {
		if keptDigest[e.Digest.String()] {
			kept = append(kept, e)
			continue
		}
		del = append(del, e)
	}
	return del, kept
}

// DeleteEntry deletes an entry's manifest by digest, which on
// distribution removes every tag pointing to it; on registries that keep
// the tag (tags as separate objects), the tag is then deleted too. done
// records the digests already deleted (several tags may share one).
func DeleteEntry(ctx context.Context, reg *registry.Client, repo name.Repository, e *Entry, done map[string]bool) error {
	d := e.Digest.String()
	if !done[d] {
		if err := DeleteReferrers(ctx, reg, repo, e.Digest); err != nil {
			return err
		}
		if err := remote.Delete(repo.Digest(d), reg.Options(ctx)...); err != nil && !registry.IsNotFound(err) {
			return err
		}
		done[d] = true
	}
	if _, err := remote.Head(repo.Tag(e.Tag), reg.Options(ctx)...); err == nil {
		if err := remote.Delete(repo.Tag(e.Tag), reg.Options(ctx)...); err != nil && !registry.IsNotFound(err) {
			return err
		}
	} else if !registry.IsNotFound(err) {
		return err
	}
	return nil
}

// DeleteReferrers deletes the artifacts whose subject is digest (push's
// build info) and, on registries without the referrers API, the
// sha256-<hex> fallback tag listing them.
func DeleteReferrers(ctx context.Context, reg *registry.Client, repo name.Repository, digest v1.Hash) error {
	idx, err := remote.Referrers(repo.Digest(digest.String()), reg.Options(ctx)...)
	if err != nil {
		if registry.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("listing the referrers of %s@%s: %w", repo, digest, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, m := range im.Manifests {
		if err := remote.Delete(repo.Digest(m.Digest.String()), reg.Options(ctx)...); err != nil && !registry.IsNotFound(err) {
			return err
		}
	}
	return deleteFallbackTag(ctx, reg, repo.Tag(digest.Algorithm+"-"+digest.Hex))
}

// deleteFallbackTag deletes the referrers fallback tag's manifest, then
// the tag itself where the registry keeps it.
func deleteFallbackTag(ctx context.Context, reg *registry.Client, fallback name.Tag) error {
	desc, err := remote.Head(fallback, reg.Options(ctx)...)
	if registry.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := remote.Delete(fallback.Context().Digest(desc.Digest.String()), reg.Options(ctx)...); err != nil && !registry.IsNotFound(err) {
		return err
	}
	if _, err := remote.Head(fallback, reg.Options(ctx)...); err == nil {
		if err := remote.Delete(fallback, reg.Options(ctx)...); err != nil && !registry.IsNotFound(err) {
			return err
		}
	}
	return nil
}
