package cache

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"golang.org/x/sync/errgroup"

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

// KeyCache is the layer cache (KeyCacheTag) of a key whose entries prune
// deletes and keeps none of.
type KeyCache struct {
	Tag    string
	Digest v1.Hash
	// SharedWith is a tag prune keeps that names the same manifest (the
	// scope's layer cache, another key's, an entry or a human tag): one
	// solve writes both layer caches with the same records, and deleting
	// by digest would take that tag with it, so only this tag may go.
	// "" when no kept tag shares the digest.
	SharedWith string
}

// ExpiredKeyCaches lists repo's tags and selects (SelectKeyCaches) the
// layer caches of the keys whose entries del holds and kept does not,
// reading the digest of every tag that is no entry's (8 at a time). It
// makes no request when no such key remains, and reads no digest when
// none of their layer caches exists.
func ExpiredKeyCaches(ctx context.Context, reg *registry.Client, repo name.Repository, del, kept []*Entry) ([]KeyCache, error) {
	want := expiredKeyCacheTags(del, kept)
	if len(want) == 0 {
		return nil, nil
	}
	tags, err := listTags(ctx, reg, repo)
	if err != nil {
		return nil, err
	}
	var others []string
	found := false
	for _, t := range tags {
		if _, ok := KeyOfEntryTag(t); !ok {
			others = append(others, t)
			found = found || want[t]
		}
	}
	if !found {
		return nil, nil
	}
	digests, err := headTags(ctx, reg, repo, others)
	if err != nil {
		return nil, err
	}
	return SelectKeyCaches(digests, del, kept), nil
}

// SelectKeyCaches picks, among tags (the repository's tags that are no
// entry's, each with its manifest digest), the layer caches of the keys
// whose entries del holds and kept does not, sorted by tag. Each names as
// SharedWith a tag that stays with the same digest: a kept entry's, else
// the first in tag order of the tags not picked.
func SelectKeyCaches(tags map[string]v1.Hash, del, kept []*Entry) []KeyCache {
	want := expiredKeyCacheTags(del, kept)
	names := slices.Sorted(maps.Keys(tags))
	holder := map[string]string{}
	hold := func(d v1.Hash, tag string) {
		if _, ok := holder[d.String()]; !ok {
			holder[d.String()] = tag
		}
	}
	for _, e := range kept {
		hold(e.Digest, e.Tag)
	}
	for _, t := range names {
		if !want[t] {
			hold(tags[t], t)
		}
	}
	var out []KeyCache
	for _, t := range names {
		if want[t] {
			out = append(out, KeyCache{Tag: t, Digest: tags[t], SharedWith: holder[tags[t].String()]})
		}
	}
	return out
}

// expiredKeyCacheTags are the layer-cache tags of the keys (a pointer's,
// a generation's, a platform pointer's) that del has entries of and kept
// has none of.
func expiredKeyCacheTags(del, kept []*Entry) map[string]bool {
	keys := map[string]bool{}
	for _, e := range del {
		if k, ok := KeyOfEntryTag(e.Tag); ok {
			keys[k] = true
		}
	}
	for _, e := range kept {
		if k, ok := KeyOfEntryTag(e.Tag); ok {
			delete(keys, k)
		}
	}
	tags := map[string]bool{}
	for k := range keys {
		tags[KeyCacheTag(k)] = true
	}
	return tags
}

// headTags reads the manifest digest of each tag (8 at a time); a tag
// deleted since the listing is left out.
func headTags(ctx context.Context, reg *registry.Client, repo name.Repository, tags []string) (map[string]v1.Hash, error) {
	out := make(map[string]v1.Hash, len(tags))
	var mu sync.Mutex
	var eg errgroup.Group
	eg.SetLimit(8)
	for _, t := range tags {
		eg.Go(func() error {
			desc, err := remote.Head(repo.Tag(t), reg.Options(ctx)...)
			if registry.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading %s:%s: %w", repo, t, err)
			}
			mu.Lock()
			out[t] = desc.Digest
			mu.Unlock()
			return nil
		})
	}
	return out, eg.Wait()
}

// DeleteKeyCache deletes a key's layer cache and says whether its tag is
// gone. Without SharedWith it goes like an entry (DeleteEntry: by digest,
// then the tag where the registry keeps tags apart; a layer cache has no
// referrers, so that part finds nothing). With SharedWith only the tag is
// deleted; a registry that deletes manifests only by digest refuses that
// (400 or 405, as the OCI distribution spec allows; distribution 2.8
// answers 400 DIGEST_INVALID), and the tag stays: false.
func DeleteKeyCache(ctx context.Context, reg *registry.Client, repo name.Repository, kc KeyCache, done map[string]bool) (bool, error) {
	if kc.SharedWith == "" {
		return true, DeleteEntry(ctx, reg, repo, &Entry{Tag: kc.Tag, Digest: kc.Digest}, done)
	}
	err := remote.Delete(repo.Tag(kc.Tag), reg.Options(ctx)...)
	var te *transport.Error
	if err == nil || !errors.As(err, &te) {
		return err == nil, err
	}
	switch te.StatusCode {
	case http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusNotFound:
		// Refused, or not found under that name: is it still there?
		_, herr := remote.Head(repo.Tag(kc.Tag), reg.Options(ctx)...)
		if registry.IsNotFound(herr) {
			return true, nil
		}
		return false, herr
	}
	return false, err
}
