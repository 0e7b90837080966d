package plugin

import (
	"github.com/devcache/devcache/plugin/cmdline"

	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/devcache/devcache/devcontainer/lockfile"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/plugin/resolver"
)

// lockOptions are the flags of `docker devcache lock`.
type lockOptions struct {
	frozen  bool
	upgrade bool
	resolve cmdline.ResolveFlags
	reg     cmdline.RegistryFlags
}

// newLockCommand is `docker devcache lock`.
func newLockCommand(root *rootOptions) *cobra.Command {
	var o lockOptions
	cmd := &cobra.Command{
		Use:   "lock [--frozen]",
		Short: "Write devcontainer-lock.json in the reference format",
		Long: `Resolve the config's features and write devcontainer-lock.json next to the
config, byte for byte as the reference devcontainer CLI would (existing pins
are kept, as the reference's build does; --upgrade re-resolves every tag). With
a lockfile and a digest-pinned base image, probe needs no tag resolution.
--frozen-lockfile is --frozen and --no-lockfile is --upgrade, as on the other
commands.

The file is replaced atomically: a failure never leaves it half-written.
A config without features has no lockfile: nothing is written.`,
		Example: `  # Pin the features of the workspace's config
  docker devcache lock

  # In CI: fail when the lockfile is missing or out of date
  docker devcache lock --frozen

  # Move every feature to what its tag points to now
  docker devcache lock --upgrade`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLock(cmd, root, &o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.frozen, "frozen", false, "Write nothing; fail when the lockfile is missing or would change")
	f.BoolVar(&o.upgrade, "upgrade", false, "Ignore the existing pins and lock what the tags point to now")
	cmdline.AddResolveFlags(f, &o.resolve, &o.reg)
	return cmd
}

func init() { registerCommand(newLockCommand) }

func runLock(cmd *cobra.Command, root *rootOptions, o *lockOptions) error {
	ro, frozen, err := o.options(root)
	if err != nil {
		return err
	}
	ctx, cancel := o.reg.Context(cmd)
	defer cancel()
	resolved, err := resolver.Plans(ctx, ro)
	if err != nil {
		return err
	}
	res := resolved.Results[0]
	out := cmd.OutOrStdout()
	if res.Lockfile == nil {
		fmt.Fprintln(out, "no features: no lockfile to write")
		return nil
	}
	path := lockfile.Path(filepath.FromSlash(res.Config.Path))
	st, err := lockfile.Read(path)
	if err != nil {
		return err
	}
	write, err := lockfile.Check(st, res.Lockfile, frozen)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !write {
		fmt.Fprintf(out, "%s is up to date\n", path)
		return nil
	}
	if err := cmdline.WriteFileAtomic(path, res.Lockfile.Bytes()); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	fmt.Fprintf(out, "wrote %s\n", path)
	return nil
}

// options are the resolution options of lock: the lockfile is read unless
// --upgrade (--no-lockfile), and checked instead of written with --frozen
// (--frozen-lockfile); one platform, as the lockfile does not depend on it.
func (o *lockOptions) options(root *rootOptions) (ro resolver.Options, frozen bool, err error) {
	mode, err := o.resolve.Lock.Mode()
	if err != nil {
		return ro, false, err
	}
	frozen = o.frozen || mode == plan.LockFrozen
	upgrade := o.upgrade || mode == plan.LockNone
	if frozen && upgrade {
		return ro, false, fmt.Errorf("--frozen (--frozen-lockfile) and --upgrade (--no-lockfile) are mutually exclusive")
	}
	lf := o.resolve
	lf.Lock = cmdline.LockFlags{None: upgrade}
	if ro, err = lf.Options(root.Root, &o.reg); err != nil {
		return ro, false, err
	}
	ro.Platforms = ro.Platforms[:1]
	return ro, frozen, nil
}
