package cmdline

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/internal/policy"
	"github.com/devcache/devcache/internal/retry"
	"github.com/devcache/devcache/plugin/cache"
	"github.com/devcache/devcache/plugin/registry"
	"github.com/devcache/devcache/plugin/resolver"
	"github.com/devcache/devcache/plugin/warm"
)

// This file registers the flags that several commands share and turns
// them into the typed options of the packages below the commands; errors
// name the flag.

// RegistryFlags are the flags of the commands that talk to registries
// from the client (probe, lock, prune, warm): mirrors, extra CAs, plain
// HTTP hosts, the source policy and a time limit. Proxies come from the
// standard HTTP_PROXY/HTTPS_PROXY/NO_PROXY variables; credentials are the
// command run's (Root.Credentials).
type RegistryFlags struct {
	Mirrors  []string
	CAFiles  []string
	Insecure []string
	Allow    []string
	Timeout  time.Duration
	// requestTimeout is --request-timeout: how long one registry request
	// may stall before it is retried.
	RequestTimeout time.Duration
	// warmDir is --base-image-cache-dir (build and push only).
	WarmDir string
}

// AddRegistryFlags registers the registry flags and the source policy on
// fs.
func AddRegistryFlags(fs *pflag.FlagSet, o *RegistryFlags) {
	AddRegistryAccessFlags(fs, o)
	fs.StringArrayVar(&o.Allow, "allow", nil, "Source policy: only use base images, Dockerfile FROMs and features matching PATTERN (repeatable; \"!PATTERN\" refuses; see docs/cache-commands.md)")
}

// AddRegistryAccessFlags registers how registries are reached (for
// commands that resolve no sources, such as prune).
func AddRegistryAccessFlags(fs *pflag.FlagSet, o *RegistryFlags) {
	fs.StringArrayVar(&o.Mirrors, "registry-mirror", nil, "Fetch from a mirror: FROM=TO[/PREFIX] (e.g. docker.io=artifactory.example.com/dockerhub; repeatable)")
	fs.StringArrayVar(&o.CAFiles, "registry-ca", nil, "PEM file of extra CA certificates for registries (repeatable)")
	fs.StringArrayVar(&o.Insecure, "insecure-registry", nil, "Registry host to reach over plain HTTP (loopback hosts always are; repeatable)")
	DurationVar(fs, &o.Timeout, "timeout", 2*time.Minute, "Give up after this long (an error, exit code 2 for probe); transient registry failures are retried until then")
	DurationVar(fs, &o.RequestTimeout, "request-timeout", retry.Default.RequestTimeout, "Abandon and retry a registry request that makes no progress for this long (see docs/failure-behaviour.md)")
}

// AddWarmCacheFlag registers --base-image-cache-dir (build and push).
func AddWarmCacheFlag(fs *pflag.FlagSet, o *RegistryFlags) {
	fs.StringVar(&o.WarmDir, "base-image-cache-dir", "", "Read base images and features from this `docker devcache warm` directory (read-only) before any registry; with everything warmed, the build needs no registry")
}

// context is the command's context bounded by --timeout.
func (o *RegistryFlags) Context(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	return WithTimeout(ctx, o.Timeout)
}

// WithTimeout bounds ctx by d (none when d <= 0).
func WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// client builds the registry client of the flags with creds, the command
// run's one credential source (Root.Credentials).
func (o *RegistryFlags) Client(creds *registry.Credentials) (*registry.Client, error) {
	mirrors, err := registry.ParseMirrors(o.Mirrors)
	if err != nil {
		return nil, fmt.Errorf("--registry-mirror %w", err)
	}
	c, err := registry.New(registry.WithKeychain(creds), registry.WithCAFiles(o.CAFiles),
		registry.WithMirrors(mirrors), registry.WithInsecure(o.Insecure), registry.WithRetry(o.RetryPolicy()))
	if err != nil {
		return nil, fmt.Errorf("--registry-ca: %w", err)
	}
	return c, nil
}

// retryPolicy is the registry retry policy of the flags: retries end at
// --timeout, one request stalls at most --request-timeout.
func (o *RegistryFlags) RetryPolicy() retry.Policy {
	return retry.Policy{RequestTimeout: o.RequestTimeout, MaxElapsed: o.Timeout}
}

// warmLayout opens --base-image-cache-dir; nil without.
func (o *RegistryFlags) WarmLayout() (*warm.Layout, error) {
	if o.WarmDir == "" {
		return nil, nil
	}
	lay, err := warm.OpenExisting(o.WarmDir)
	if err != nil {
		return nil, fmt.Errorf("--base-image-cache-dir %w", err)
	}
	return lay, nil
}

// ResolveFlags are the flags that decide a workspace's Plans and key,
// registered the same way on every command that computes them (plan,
// probe, push, build, lock, warm), so that each computes the key the
// others would: registry access (--registry-mirror, --insecure-registry,
// --registry-ca, --timeout), the source policy (--allow), the lockfile
// (--no-lockfile, --frozen-lockfile) and
// --skip-persisting-customizations-from-features. --platform and the
// workspace flags are the root's.
type ResolveFlags struct {
	Lock               LockFlags
	SkipCustomizations bool
}

// AddResolveFlags registers the resolution flags on fs: reg receives the
// registry access flags and --allow.
func AddResolveFlags(fs *pflag.FlagSet, o *ResolveFlags, reg *RegistryFlags) {
	AddRegistryFlags(fs, reg)
	AddLockFlags(fs, &o.Lock)
	fs.BoolVar(&o.SkipCustomizations, "skip-persisting-customizations-from-features", false, "Leave feature customizations out of the metadata label (changes the key)")
}

// options turns the flags, the registry flags regFlags and the root's
// workspace and --platform into typed resolution options with their
// registry access.
func (o *ResolveFlags) Options(root *Root, regFlags *RegistryFlags) (resolver.Options, error) {
	ro, err := o.WithoutWorkspace(root, regFlags)
	if err != nil {
		return ro, err
	}
	ro.Workspace, err = root.Workspace()
	return ro, err
}

// withoutWorkspace is options without the workspace, for commands that
// resolve several configs (warm).
func (o *ResolveFlags) WithoutWorkspace(root *Root, regFlags *RegistryFlags) (resolver.Options, error) {
	var ro resolver.Options
	mode, err := o.Lock.Mode()
	if err != nil {
		return ro, err
	}
	ps, err := resolver.NormalizePlatforms(root.Platforms)
	if err != nil {
		return ro, fmt.Errorf("--%w", err)
	}
	pol, err := policy.Parse(regFlags.Allow)
	if err != nil {
		return ro, err
	}
	reg, err := regFlags.Client(root.Credentials())
	if err != nil {
		return ro, err
	}
	lay, err := regFlags.WarmLayout()
	if err != nil {
		return ro, err
	}
	return resolver.Options{Platforms: ps, Lock: mode, SkipCustomizations: o.SkipCustomizations, Registry: reg, Policy: pol, Warm: lay}, nil
}

// LockFlags choose how a command uses devcontainer-lock.json.
type LockFlags struct {
	Frozen bool
	None   bool
}

func AddLockFlags(fs *pflag.FlagSet, o *LockFlags) {
	fs.BoolVar(&o.Frozen, "frozen-lockfile", false, "Fail when devcontainer-lock.json is missing or would change")
	fs.BoolVar(&o.None, "no-lockfile", false, "Ignore devcontainer-lock.json")
}

func (o LockFlags) Mode() (plan.LockMode, error) {
	switch {
	case o.Frozen && o.None:
		return 0, fmt.Errorf("--no-lockfile and --frozen-lockfile are mutually exclusive")
	case o.Frozen:
		return plan.LockFrozen, nil
	case o.None:
		return plan.LockNone, nil
	}
	return plan.LockUse, nil
}

// CacheRepository parses --cache-repo.
func CacheRepository(s string) (name.Repository, error) {
	if s == "" {
		return name.Repository{}, fmt.Errorf("--cache-repo is required (or DEVCACHE_CACHE_REPO): the repository holding the cached images, e.g. registry.example.com/team/devcache")
	}
	r, err := cache.ParseRepository(s)
	if err != nil {
		return name.Repository{}, fmt.Errorf("--cache-repo %w", err)
	}
	return r, nil
}

// AbsDir makes --cache-dir absolute ("" stays "").
func AbsDir(d string) (string, error) {
	if d == "" {
		return "", nil
	}
	a, err := filepath.Abs(d)
	if err != nil {
		return "", fmt.Errorf("--cache-dir: %w", err)
	}
	return a, nil
}

// ParseTags parses --tag values.
func ParseTags(tags []string) ([]name.Tag, error) {
	var out []name.Tag
	for _, t := range tags {
		n, err := name.NewTag(t)
		if err != nil {
			return nil, fmt.Errorf("--tag %q: %w", t, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// durationValue is the type of every duration flag (--max-age,
// --older-than, --timeout): a Go duration ("90m", "168h") that may start
// with whole days ("7d", "1d12h"), as retention periods are written.
type durationValue time.Duration

// DurationVar registers a duration flag on fs.
func DurationVar(fs *pflag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var((*durationValue)(p), name, usage)
}

func (d *durationValue) Set(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = durationValue(v)
	return nil
}

// Type is "duration", as pflag's own, so --help hides a zero default.
func (d *durationValue) Type() string { return "duration" }

func (d *durationValue) String() string { return time.Duration(*d).String() }

// ParseDuration reads "[<N>d]<Go duration>" (cache.ParseDuration).
func ParseDuration(s string) (time.Duration, error) { return cache.ParseDuration(s) }
