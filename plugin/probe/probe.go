package probe

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/devcache/devcache/plugin/cache"
	"github.com/devcache/devcache/plugin/registry"
	"github.com/devcache/devcache/plugin/resolver"
)

// Options are one probe's request.
type Options struct {
	// Repo is the cache repository (see cache.ParseRepository).
	Repo name.Repository
	// Resolve decides the workspace's Plans and key; its Registry is also
	// the access to Repo.
	Resolve resolver.Options
	// MaxAge turns entries older than this into misses; 0 accepts any age.
	MaxAge time.Duration
	// MaxAgeName names MaxAge's setting in messages (--max-age, max_age);
	// "" is "the maximum age".
	MaxAgeName string
	// Created reads the entry's creation time on a hit (one more request;
	// a MaxAge reads it anyway).
	Created bool
	// Explain lists, on a miss, the Plan inputs that differ from the
	// newest entry of Scope.
	Explain bool
	// Scope is the cache scope for Explain; "" is the config's path in the
	// workspace.
	Scope string
}

// Result is what a probe found (the JSON of probe --format json).
type Result struct {
	Hit bool `json:"hit"`
	// Image is <repo>@sha256:… on a hit.
	Image string `json:"image,omitempty"`
	// Ref is <repo>:<key tag>.
	Ref string `json:"ref"`
	// Key is the workspace's cache key.
	Key string `json:"key"`
	// Created is the entry's creation time on a hit, read only with
	// Options.Created or MaxAge.
	Created time.Time `json:"created,omitzero"`
	// Reason says why it is a miss.
	Reason string `json:"reason,omitempty"`
	// Explain lists the differences from the newest entry of the scope.
	Explain *cache.Explanation `json:"explain,omitempty"`
}

// KeyTag is the tag of the key in the cache repository (dc-<hex>).
func (r *Result) KeyTag() string { return cache.TagOf(r.Key) }

// Probe computes the key and looks the entry up; an error (config,
// credentials, registry, network) is never a miss.
func Probe(ctx context.Context, o Options) (*Result, error) {
	resolved, err := resolver.Plans(ctx, o.Resolve)
	if err != nil {
		return nil, err
	}
	reg := o.Resolve.Registry
	tag := cache.TagOf(resolved.Key)
	res := &Result{Ref: o.Repo.Tag(tag).String(), Key: resolved.Key}
	if err := lookUp(ctx, reg, o.Repo, tag, res); err != nil {
		return nil, err
	}
	if res.Hit && (o.MaxAge > 0 || o.Created) {
		if err := checkAge(ctx, reg, o.Repo, tag, o.MaxAge, o.maxAgeName(), res); err != nil {
			return nil, err
		}
	}
	if !res.Hit && o.Explain {
		scope := o.Scope
		if scope == "" {
			scope = resolved.Plans[0].ConfigFile
		}
		ex, err := cache.Explain(ctx, reg, o.Repo, tag, scope, resolved.Plans)
		if err != nil {
			// The miss stands; the explanation is extra.
			ex = &cache.Explanation{Scope: scope, Error: err.Error()}
		}
		res.Explain = ex
	}
	return res, nil
}

// lookUp HEADs the key tag: a hit, a miss (404) or an error.
func lookUp(ctx context.Context, reg *registry.Client, repo name.Repository, tag string, res *Result) error {
	ref := repo.Tag(tag)
	digest, err := reg.Head(ctx, ref)
	switch {
	case registry.IsNotFound(err):
		res.Reason = fmt.Sprintf("no cache entry %s", ref)
	case err != nil:
		return fmt.Errorf("looking up %s: %w", ref, err)
	default:
		res.Hit = true
		res.Image = repo.Digest(digest.String()).String()
	}
	return nil
}

// checkAge reads the entry's creation time and turns a hit older than
// maxAge (> 0) into a miss (cache.Stale, as push --max-age decides).
func checkAge(ctx context.Context, reg *registry.Client, repo name.Repository, tag string, maxAge time.Duration, setting string, res *Result) error {
	if maxAge <= 0 {
		e, err := cache.ReadEntry(ctx, reg, repo, tag)
		if err != nil {
			return fmt.Errorf("reading the age of %s: %w", repo.Tag(tag), err)
		}
		res.Created = e.Created
		return nil
	}
	e, stale, err := cache.Stale(ctx, reg, repo, tag, maxAge, setting, time.Now())
	if err != nil {
		return err
	}
	res.Created = e.Created
	if stale != "" {
		res.Hit, res.Image = false, ""
		res.Reason = stale
	}
	return nil
}

func (o Options) maxAgeName() string {
	if o.MaxAgeName == "" {
		return "the maximum age"
	}
	return o.MaxAgeName
}
