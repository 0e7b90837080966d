package cache

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/plugin/registry"
)

// ClaimSettle is the least time a push waits between claiming a key tag
// and reading it for the last time (see Claim). Tests shorten it.
var ClaimSettle = 2 * time.Second

// Claim points the key tag at built unless it exists, and returns what
// the tag holds once concurrent claims have settled, and whether that is
// built because this push wrote it.
//
// A key tag is never overwritten on purpose, but registries have no
// conditional manifest PUT: pushes that find the tag absent at about the
// same time all write it, and the last write stands. A push that wrote (or
// found the tag written while it built) therefore waits until any push
// that found the tag absent before this one's write has written too —
// ClaimSettle plus twice this push's own check-to-write time — and then
// reports what the tag holds. Registries with immutable tags refuse the
// later writes; the tag then holds the first, which is reported the same
// way.
func Claim(ctx context.Context, reg *registry.Client, repo name.Repository, tag string, built *remote.Descriptor) (final *remote.Descriptor, stored bool, err error) {
	start := time.Now()
	existing, err := Lookup(ctx, reg, repo, tag)
	if err != nil {
		return nil, false, err
	}
	wrote := false
	if existing == nil {
		if err := remote.Tag(repo.Tag(tag), built, reg.Options(ctx)...); err != nil {
			// An immutable-tag registry refuses a second writer.
			if now, lerr := Lookup(ctx, reg, repo, tag); lerr != nil || now == nil {
				return nil, false, fmt.Errorf("tagging %s:%s: %w", repo, tag, err)
			}
		} else {
			wrote = true
		}
	}
	if err := sleepCtx(ctx, ClaimSettle+2*time.Since(start)); err != nil {
		return nil, false, fmt.Errorf("waiting to read back %s:%s: %w", repo, tag, err)
	}
	final, err = Lookup(ctx, reg, repo, tag)
	if err != nil {
		return nil, false, err
	}
	if final == nil {
		return nil, false, fmt.Errorf("%s:%s vanished right after it was written (a concurrent prune?); run push again", repo, tag)
	}
	return final, wrote && final.Digest == built.Digest, nil
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Lookup HEADs <repo>:<tag> and, when it exists, reads its manifest: nil
// on a 404, an error on anything else (an error is never a miss). The
// error says to check the cache repository and the credentials.
func Lookup(ctx context.Context, reg *registry.Client, repo name.Repository, tag string) (*remote.Descriptor, error) {
	wrap := func(err error) error {
		return fmt.Errorf("looking up %s:%s (check --cache-repo and your credentials: docker login %s): %w", repo, tag, repo.RegistryStr(), err)
	}
	head, err := remote.Head(repo.Tag(tag), reg.Options(ctx)...)
	if registry.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(err)
	}
	// By digest: a concurrent retag cannot make the two disagree.
	d, err := remote.Get(repo.Digest(head.Digest.String()), reg.Options(ctx)...)
	if err != nil {
		return nil, wrap(err)
	}
	return d, nil
}

// AddTags points each tag at desc, an entry of repo, copying it across
// repositories. The error names the tag.
func AddTags(ctx context.Context, reg *registry.Client, repo name.Repository, desc *remote.Descriptor, tags []name.Tag) error {
	for _, t := range tags {
		var err error
		switch {
		case t.Context() == repo:
			err = remote.Tag(t, desc, reg.Options(ctx)...)
		case desc.MediaType.IsIndex():
			idx, ierr := desc.ImageIndex()
			if ierr != nil {
				return ierr
			}
			err = remote.WriteIndex(t, idx, reg.Options(ctx)...)
		default:
			img, ierr := desc.Image()
			if ierr != nil {
				return ierr
			}
			err = remote.Write(t, img, reg.Options(ctx)...)
		}
		if err != nil {
			return fmt.Errorf("pushing --tag %s: %w", t, err)
		}
	}
	return nil
}
