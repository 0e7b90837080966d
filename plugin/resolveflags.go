package plugin

import (
	"fmt"

	"github.com/spf13/pflag"
)

// resolveFlags are the flags that decide a workspace's Plans and key,
// registered the same way on every command that computes them (plan,
// probe, push, build, lock, warm), so that each computes the key the
// others would: registry access (--registry-mirror, --insecure-registry,
// --registry-ca, --timeout), the source policy (--allow), the lockfile
// (--no-lockfile, --frozen-lockfile) and
// --skip-persisting-customizations-from-features. --platform and the
// workspace flags are the root's.
type resolveFlags struct {
	lock               lockFlags
	skipCustomizations bool
}

// addResolveFlags registers the resolution flags on fs: reg receives the
// registry access flags and --allow.
func addResolveFlags(fs *pflag.FlagSet, o *resolveFlags, reg *registryOptions) {
	addRegistryFlags(fs, reg)
	addLockFlags(fs, &o.lock)
	fs.BoolVar(&o.skipCustomizations, "skip-persisting-customizations-from-features", false, "Leave feature customizations out of the metadata label (changes the key)")
}

// options turns the flags, the registry flags regFlags and the root's
// workspace and --platform into typed resolution options with their
// registry access.
func (o *resolveFlags) options(root *rootOptions, regFlags *registryOptions) (resolveOptions, error) {
	ro, err := o.withoutWorkspace(root, regFlags)
	if err != nil {
		return ro, err
	}
	ro.Workspace, err = root.resolveWorkspace()
	return ro, err
}

// withoutWorkspace is options without the workspace, for commands that
// resolve several configs (warm).
func (o *resolveFlags) withoutWorkspace(root *rootOptions, regFlags *registryOptions) (resolveOptions, error) {
	var ro resolveOptions
	mode, err := o.lock.mode()
	if err != nil {
		return ro, err
	}
	ps, err := normalizePlatforms(root.platforms)
	if err != nil {
		return ro, fmt.Errorf("--%w", err)
	}
	reg, err := regFlags.newRegistry(root.credentials())
	if err != nil {
		return ro, err
	}
	return resolveOptions{Platforms: ps, Lock: mode, SkipCustomizations: o.skipCustomizations, Registry: reg}, nil
}
