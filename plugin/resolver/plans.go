package resolver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"github.com/containerd/platforms"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/internal/policy"
	"github.com/devcache/devcache/plugin/registry"
	"github.com/devcache/devcache/plugin/warm"
)

// Options decide a workspace's Plans.
type Options struct {
	// Workspace is the workspace folder and its config.
	Workspace *Workspace
	// Platforms are the target platforms, any order, duplicates allowed;
	// none means the client's linux/<arch>. Plans normalises them
	// (containerd's platform names), sorts and deduplicates them.
	Platforms []string
	// Lock is how devcontainer-lock.json is used (plan.LockUse by default).
	Lock plan.LockMode
	// SkipCustomizations leaves feature customizations out of the label.
	SkipCustomizations bool
	// Registry is the registry access: mirrors, plain-HTTP hosts, CAs and
	// credentials.
	Registry *registry.Client
	// Policy is the source policy (--allow); nil allows everything.
	Policy *policy.Policy
	// Warm is the --base-image-cache-dir layout, read before registries;
	// nil without.
	Warm *warm.Layout
	// Resolver replaces the resolver chain New builds from the fields
	// above (warm resolves through its layout); nil uses that chain.
	Resolver plan.Resolver
}

// Resolution is the outcome of Plans.
type Resolution struct {
	// Results has one entry per platform, in platform order.
	Results []*plan.Result
	// Plans are the Results' Plans, in the same order.
	Plans []*plan.Plan
	// Key is plan.KeyOf(Plans): what probe looks up and push stores.
	Key string
}

// Plans is the one path from a workspace to its Plans and key, used by
// plan, probe, push, build, lock and warm: it reads the workspace's config,
// applies the source policy to its Dockerfile, resolves its references
// (concurrently first, see prefetch) and computes one Plan per target
// platform.
func Plans(ctx context.Context, o Options) (*Resolution, error) {
	if o.Workspace == nil || o.Registry == nil {
		return nil, fmt.Errorf("resolver.Plans: no workspace or registry access")
	}
	ps, err := NormalizePlatforms(o.Platforms)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(o.Workspace, o.Policy)
	if err != nil {
		return nil, err
	}
	res := o.Resolver
	if res == nil {
		res = New(o.Registry, WithPolicy(o.Policy), WithWarm(o.Warm))
	}
	prefetch(ctx, o.Workspace.Folder, cfg, res, ps, o.Lock)
	out := &Resolution{}
	for _, p := range ps {
		r, err := plan.ForConfig(ctx, o.Workspace.Folder, cfg, plan.Options{
			ConfigPath:         o.Workspace.ConfigPath,
			Resolver:           res,
			Platform:           p,
			Lock:               o.Lock,
			SkipCustomizations: o.SkipCustomizations,
		})
		if err != nil {
			return nil, err
		}
		out.Results = append(out.Results, r)
		out.Plans = append(out.Plans, r.Plan)
	}
	out.Key = plan.KeyOf(out.Plans)
	return out, nil
}

// NormalizePlatforms turns platform names into containerd's normal form
// ("linux/arm64/v8" is "linux/arm64", "linux/arm" is "linux/arm/v7"),
// sorted and without duplicates; none is linux/<client arch>.
func NormalizePlatforms(in []string) ([]string, error) {
	if len(in) == 0 {
		return []string{"linux/" + runtime.GOARCH}, nil
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		p, err := platforms.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("platform %q: %w", s, err)
		}
		out = append(out, platforms.Format(platforms.Normalize(p)))
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// loadConfig reads the workspace's config as plan.ForWorkspace does and
// applies the source policy to its Dockerfile before anything is resolved.
func loadConfig(ws *Workspace, pol *policy.Policy) (*devcontainer.Config, error) {
	cfg, err := devcontainer.Load(ws.Folder, ws.ConfigPath, &devcontainer.Variables{LocalEnv: os.LookupEnv, LocalWorkspaceFolder: filepath.ToSlash(ws.Folder)})
	if err != nil {
		return nil, err
	}
	if err := CheckDockerfileSources(pol, ws.Folder, cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}
