package resolver

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/features"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/internal/policy"
	"github.com/devcache/devcache/plugin/registry"
	"github.com/devcache/devcache/plugin/warm"
)

// warmedResolver resolves from a warm layout first: images (tag or digest)
// and OCI feature tags it holds need no registry; the features' payloads
// come from the resolve cache that warm filled. Anything else goes to the
// inner resolver.
type warmedResolver struct {
	plan.Resolver
	lay *warm.Layout
}

func (r *warmedResolver) ResolveImage(ctx context.Context, ref, platform string) (*devcontainer.Image, error) {
	if d, ok := r.lay.FindAs(ref, platform); ok {
		return r.lay.Image(ref, platform, d)
	}
	if n, err := name.ParseReference(ref); err == nil {
		if dg, ok := n.(name.Digest); ok {
			if d, ok := r.lay.Find(dg.DigestStr(), platform); ok {
				return r.lay.Image(ref, platform, d)
			}
		}
	}
	return r.Resolver.ResolveImage(ctx, ref, platform)
}

func (r *warmedResolver) Resolve(ctx context.Context, ref *features.Ref, pin string) (*features.Source, error) {
	if ref.Kind == features.KindOCI && pin == "" && ref.OCI.Digest == "" && ref.OCI.Tag != "" {
		if d, ok := r.lay.FindAs(warm.FeatureTagRef(ref.OCI), ""); ok {
			pin = d.Digest.String()
		}
	}
	return r.Resolver.Resolve(ctx, ref, pin)
}

// ForWarming is the resolver warm computes Plans with: images the layout
// already holds come from it (one HEAD for a tag, nothing for a digest),
// and OCI feature tags are resolved with one HEAD and then by digest
// (whose manifest and layer the resolve cache keeps), so that re-warming
// an unchanged config fetches no blob. The policy applies first.
func ForWarming(reg *registry.Client, pol *policy.Policy, lay *warm.Layout) plan.Resolver {
	inner := New(reg, WithPolicy(pol))
	return &onceImages{Resolver: &layoutResolver{Resolver: inner, reg: reg, policy: pol, lay: lay}}
}

// layoutResolver is ForWarming's resolver.
type layoutResolver struct {
	plan.Resolver
	reg    *registry.Client
	policy *policy.Policy
	lay    *warm.Layout

	mu   sync.Mutex
	tags map[string]string // feature tag reference → the digest its HEAD gave
}

func (r *layoutResolver) ResolveImage(ctx context.Context, ref, platform string) (*devcontainer.Image, error) {
	if err := r.policy.CheckImage(policy.KindImage, ref); err != nil {
		return nil, err
	}
	n, err := name.ParseReference(ref)
	if err != nil {
		return r.Resolver.ResolveImage(ctx, ref, platform)
	}
	var pointedTo string
	if d, ok := n.(name.Digest); ok {
		pointedTo = d.DigestStr()
	} else {
		h, err := r.reg.Head(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", ref, err)
		}
		pointedTo = h.String()
	}
	if d, ok := r.lay.Find(pointedTo, platform); ok {
		return r.lay.Image(ref, platform, d)
	}
	return r.Resolver.ResolveImage(ctx, ref, platform)
}

func (r *layoutResolver) Resolve(ctx context.Context, ref *features.Ref, pin string) (*features.Source, error) {
	if err := r.policy.CheckFeatureRef(ref); err != nil {
		return nil, err
	}
	if ref.Kind == features.KindOCI && pin == "" && ref.OCI.Digest == "" && ref.OCI.Tag != "" {
		repo, err := name.NewRepository(ref.OCI.Registry+"/"+ref.OCI.Path, name.WeakValidation)
		if err == nil {
			if pin, err = r.headTag(ctx, repo.Tag(ref.OCI.Tag)); err != nil {
				return nil, fmt.Errorf("feature %s: %w", ref.UserFeatureID, err)
			}
		}
	}
	return r.Resolver.Resolve(ctx, ref, pin)
}

// headTag is the digest tag points to, with one HEAD per run (the Plans'
// walk resolves what prefetch resolved already).
func (r *layoutResolver) headTag(ctx context.Context, tag name.Tag) (string, error) {
	r.mu.Lock()
	d, ok := r.tags[tag.String()]
	r.mu.Unlock()
	if ok {
		return d, nil
	}
	h, err := r.reg.Head(ctx, tag)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	if r.tags == nil {
		r.tags = map[string]string{}
	}
	r.tags[tag.String()] = h.String()
	r.mu.Unlock()
	return h.String(), nil
}
