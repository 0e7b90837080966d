package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/pkg/errors"
)

// claimSettle is the least time a push waits between claiming a key tag
// and reading it for the last time (see claimKeyTag).
var claimSettle = 2 * time.Second

// claimKeyTag points the key tag at built unless it exists, and returns
// what the tag holds once concurrent claims have settled, and whether
// that is built because this push wrote it.
//
// A key tag is never overwritten on purpose, but registries have no
// conditional manifest PUT: pushes that find the tag absent at about the
// same time all write it, and the last write stands. A push that wrote (or
// found the tag written while it built) therefore waits until any push
// that found the tag absent before this one's write has written too —
// claimSettle plus twice this push's own check-to-write time — and then
// reports what the tag holds. Registries with immutable tags refuse the
// later writes; the tag then holds the first, which is reported the same
// way.
func claimKeyTag(ctx context.Context, reg *registry, repo name.Repository, tag string, built *remote.Descriptor) (final *remote.Descriptor, stored bool, err error) {
	start := time.Now()
	existing, err := lookupEntry(ctx, reg, repo, tag)
	if err != nil {
		return nil, false, err
	}
	wrote := false
	if existing == nil {
		if err := remote.Tag(repo.Tag(tag), built, reg.options(ctx)...); err != nil {
			// An immutable-tag registry refuses a second writer.
			if now, lerr := lookupEntry(ctx, reg, repo, tag); lerr != nil || now == nil {
				return nil, false, errors.Wrapf(err, "tagging %s:%s", repo, tag)
			}
		} else {
			wrote = true
		}
	}
	if err := sleepCtx(ctx, claimSettle+2*time.Since(start)); err != nil {
		return nil, false, errors.Wrapf(err, "waiting to read back %s:%s", repo, tag)
	}
	final, err = lookupEntry(ctx, reg, repo, tag)
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
