package resolver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/features"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve"
	"github.com/devcache/devcache/internal/atomicfile"
	"github.com/devcache/devcache/internal/policy"
	"github.com/devcache/devcache/plugin/registry"
	"github.com/devcache/devcache/plugin/warm"
)

// Option configures New.
type Option func(*chain)

type chain struct {
	policy *policy.Policy
	warm   *warm.Layout
	cache  string
}

// WithPolicy puts the source policy in front: images and features it does
// not allow are refused before any request is made for them.
func WithPolicy(p *policy.Policy) Option { return func(c *chain) { c.policy = p } }

// WithWarm resolves from a warm layout (--base-image-cache-dir) first; nil
// is none.
func WithWarm(l *warm.Layout) Option { return func(c *chain) { c.warm = l } }

// WithCacheDir sets the resolve cache (default: resolve.DefaultCacheDir();
// "" keeps nothing on disk).
func WithCacheDir(dir string) Option { return func(c *chain) { c.cache = dir } }

// New is the Plan resolver of reg: resolve.Client with this access, the
// source policy in front, the warm layout first, digest-pinned images
// remembered on disk and each image resolved once per run.
func New(reg *registry.Client, opts ...Option) plan.Resolver {
	cfg := chain{cache: resolve.DefaultCacheDir()}
	for _, o := range opts {
		o(&cfg)
	}
	var res plan.Resolver = resolve.New(resolve.Options{
		Keychain:   reg.Keychain(),
		Transport:  reg.Transport(),
		HTTPClient: reg.HTTPClient(),
		CacheDir:   cfg.cache,
	})
	if cfg.cache != "" {
		res = &pinnedImages{Resolver: res, dir: cfg.cache}
	}
	if cfg.warm != nil {
		res = &warmedResolver{Resolver: res, lay: cfg.warm}
	}
	return &onceImages{Resolver: &policyResolver{Resolver: res, policy: cfg.policy}}
}

// policyResolver refuses images and features the source policy does not
// allow, before any request is made for them.
type policyResolver struct {
	plan.Resolver
	policy *policy.Policy
}

func (r *policyResolver) ResolveImage(ctx context.Context, ref, platform string) (*devcontainer.Image, error) {
	if err := r.policy.CheckImage(policy.KindImage, ref); err != nil {
		return nil, err
	}
	return r.Resolver.ResolveImage(ctx, ref, platform)
}

func (r *policyResolver) Resolve(ctx context.Context, ref *features.Ref, pin string) (*features.Source, error) {
	if err := r.policy.CheckFeatureRef(ref); err != nil {
		return nil, err
	}
	return r.Resolver.Resolve(ctx, ref, pin)
}

// pinnedImages remembers what a digest-pinned image reference resolves to,
// on disk: "repo@sha256:…" for a platform always has the same manifest and
// config, so a probe of a fully pinned Plan makes no request for it.
type pinnedImages struct {
	plan.Resolver
	dir string
}

func (r *pinnedImages) ResolveImage(ctx context.Context, ref, platform string) (*devcontainer.Image, error) {
	if !strings.Contains(ref, "@sha256:") {
		return r.Resolver.ResolveImage(ctx, ref, platform)
	}
	// v2: images record their ONBUILD triggers.
	sum := sha256.Sum256([]byte("v2\x00" + ref + "\x00" + platform))
	p := filepath.Join(r.dir, "images", hex.EncodeToString(sum[:])+".json")
	if data, err := os.ReadFile(p); err == nil {
		var img devcontainer.Image
		if json.Unmarshal(data, &img) == nil && img.Ref == ref {
			return &img, nil
		}
	}
	img, err := r.Resolver.ResolveImage(ctx, ref, platform)
	if err != nil {
		return nil, err
	}
	if data, err := json.Marshal(img); err == nil {
		_ = replaceFile(p, data, 0o644) // best effort: a cache
	}
	return img, nil
}

// replaceFile replaces p with data atomically (internal/atomicfile),
// creating its directory, so p is either absent, the old content or the
// whole new content.
func replaceFile(p string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(p, data, mode)
}

// onceImages resolves each image reference once per platform and run:
// plans resolve a Dockerfile's base both as a FROM and as the base.
type onceImages struct {
	plan.Resolver
	mu   sync.Mutex
	seen map[string]*devcontainer.Image
}

func (r *onceImages) ResolveImage(ctx context.Context, ref, platform string) (*devcontainer.Image, error) {
	key := ref + "\x00" + platform
	r.mu.Lock()
	img, ok := r.seen[key]
	r.mu.Unlock()
	if ok {
		return img, nil
	}
	img, err := r.Resolver.ResolveImage(ctx, ref, platform)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.seen == nil {
		r.seen = map[string]*devcontainer.Image{}
	}
	r.seen[key] = img
	r.mu.Unlock()
	return img, nil
}
