package plugin

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/devcache/devcache/devcontainer/lockfile"
	"github.com/devcache/devcache/devcontainer/plan"
)

// lockFlags choose how a command uses devcontainer-lock.json.
type lockFlags struct {
	frozen bool
	none   bool
}

func addLockFlags(fs *pflag.FlagSet, o *lockFlags) {
	fs.BoolVar(&o.frozen, "frozen-lockfile", false, "Fail when devcontainer-lock.json is missing or would change")
	fs.BoolVar(&o.none, "no-lockfile", false, "Ignore devcontainer-lock.json")
}

func (o lockFlags) mode() (plan.LockMode, error) {
	switch {
	case o.frozen && o.none:
		return 0, fmt.Errorf("--no-lockfile and --frozen-lockfile are mutually exclusive")
	case o.frozen:
		return plan.LockFrozen, nil
	case o.none:
		return plan.LockNone, nil
	}
	return plan.LockUse, nil
}

// lockOptions are the flags of `docker devcache lock`.
type lockOptions struct {
	frozen  bool
	upgrade bool
	reg     registryOptions
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
	addRegistryFlags(f, &o.reg)
	return cmd
}

func init() { registerCommand(newLockCommand) }

func runLock(cmd *cobra.Command, root *rootOptions, o *lockOptions) error {
	if o.frozen && o.upgrade {
		return fmt.Errorf("--frozen and --upgrade are mutually exclusive")
	}
	ctx, cancel := o.reg.context(cmd)
	defer cancel()
	reg, err := o.reg.newRegistry(root.credentials())
	if err != nil {
		return err
	}
	mode := plan.LockUse
	if o.upgrade {
		mode = plan.LockNone
	}
	root1 := *root
	if len(root1.platforms) > 1 {
		root1.platforms = root1.platforms[:1] // the lockfile does not depend on the platform
	}
	results, err := computePlans(ctx, &root1, reg, mode)
	if err != nil {
		return err
	}
	res := results[0]
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
	write, err := lockfile.Check(st, res.Lockfile, o.frozen)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !write {
		fmt.Fprintf(out, "%s is up to date\n", path)
		return nil
	}
	if err := replaceFile(path, res.Lockfile.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	fmt.Fprintf(out, "wrote %s\n", path)
	return nil
}
