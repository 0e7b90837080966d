package plugin

import (
	"github.com/devcache/devcache/plugin/cmdline"

	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/devcache/devcache/internal/policy"
	"github.com/devcache/devcache/plugin/resolver"
	"github.com/devcache/devcache/plugin/warm"
)

// warmOptions are the flags of `docker devcache warm`.
type warmOptions struct {
	dir      string
	images   []string
	noConfig bool
	resolve  cmdline.ResolveFlags
	reg      cmdline.RegistryFlags
}

// newWarmCommand is `docker devcache warm`.
func newWarmCommand(root *rootOptions) *cobra.Command {
	var o warmOptions
	cmd := &cobra.Command{
		Use:   "warm --dir DIR [--image REF]... [CONFIG...]",
		Short: "Pre-pull base images and features into an OCI layout directory",
		Long: `Fetch the base images, Dockerfile FROM images and OCI features of the given
devcontainer.json files (default: the workspace's config) and of every --image
into the OCI layout directory --dir, for the target --platform (the kaniko
warmer's job). Each reference becomes one entry of DIR/index.json annotated
with org.opencontainers.image.ref.name.

A second run with nothing new downloads no blob: a digest-pinned reference
already in DIR costs no request, a tag one manifest HEAD. Tarball features are
kept in the resolve cache, not in DIR. The source policy (--allow) and mirrors
apply.

Build and push then take --base-image-cache-dir DIR and read from it before
any registry: with everything warmed (and tarball features locked), a build
needs no registry for its sources at all.`,
		Example: `  # Warm the workspace's config and an extra image
  docker devcache warm --dir /var/cache/devcache --image mcr.microsoft.com/devcontainers/base:bookworm

  # Only images, for two platforms
  docker devcache warm --dir ./warm --no-config --platform linux/amd64,linux/arm64 --image alpine:3.20`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWarm(cmd, root, &o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dir, "dir", "", "OCI layout directory to fill (created when missing; required)")
	f.StringArrayVar(&o.images, "image", nil, "An image to warm (repeatable)")
	f.BoolVar(&o.noConfig, "no-config", false, "Warm only the --image references, not the workspace's config")
	cmdline.AddResolveFlags(f, &o.resolve, &o.reg)
	return cmd
}

func init() { registerCommand(newWarmCommand) }

func runWarm(cmd *cobra.Command, root *rootOptions, o *warmOptions, configs []string) error {
	if o.dir == "" {
		return fmt.Errorf("--dir is required: the OCI layout directory to fill")
	}
	if o.noConfig && len(o.images) == 0 {
		return fmt.Errorf("--no-config without --image: nothing to warm")
	}
	if o.noConfig && len(configs) > 0 {
		return fmt.Errorf("--no-config with config arguments %q", configs)
	}
	ctx, cancel := o.reg.Context(cmd)
	defer cancel()
	ro, err := o.resolve.WithoutWorkspace(root.Root, &o.reg)
	if err != nil {
		return err
	}
	lay, err := warm.Open(o.dir)
	if err != nil {
		return err
	}
	targets, err := imageTargets(ro, o.images)
	if err != nil {
		return err
	}
	if !o.noConfig {
		cfgTargets, err := configTargets(ctx, root, ro, lay, configs)
		if err != nil {
			return err
		}
		targets = append(targets, cfgTargets...)
	}
	targets = warm.Dedupe(targets)
	for i := range targets {
		if err := warm.One(ctx, ro.Registry, lay, &targets[i]); err != nil {
			return err
		}
	}
	return printWarm(cmd, root.Format, o.dir, targets)
}

// imageTargets are the --image references for each platform, each
// allowed by the source policy.
func imageTargets(ro resolver.Options, images []string) ([]warm.Target, error) {
	var targets []warm.Target
	for _, img := range images {
		if err := ro.Policy.CheckImage(policy.KindImage, img); err != nil {
			return nil, err
		}
		for _, p := range ro.Platforms {
			targets = append(targets, warm.Target{Ref: img, Platform: p})
		}
	}
	return targets, nil
}

// configTargets computes the Plans of the configs (resolving through the
// layout, so a warm layout needs one HEAD per tag) and lists what they
// pull (warm.TargetsOf).
func configTargets(ctx context.Context, root *rootOptions, ro resolver.Options, lay *warm.Layout, configs []string) ([]warm.Target, error) {
	roots := []*rootOptions{root}
	if len(configs) > 0 {
		roots = nil
		for _, c := range configs {
			r := *root
			r.Config = c
			roots = append(roots, &r)
		}
	}
	var out []warm.Target
	for _, r := range roots {
		ws, err := r.Workspace()
		if err != nil {
			return nil, err
		}
		o := ro
		o.Workspace = ws
		o.Resolver = resolver.ForWarming(ro.Registry, ro.Policy, lay)
		resolved, err := resolver.Plans(ctx, o)
		if err != nil {
			return nil, err
		}
		out = append(out, warm.TargetsOf(resolved.Plans)...)
	}
	return out, nil
}

func printWarm(cmd *cobra.Command, format, dir string, ts []warm.Target) error {
	out := cmd.OutOrStdout()
	if format == "json" {
		return cmdline.WriteJSON(out, map[string]any{"dir": dir, "refs": ts})
	}
	fetched := 0
	for _, t := range ts {
		state := "up to date"
		if t.Fetched {
			state = fmt.Sprintf("fetched (%d blobs)", t.Blobs)
			fetched++
		}
		plat := ""
		if t.Platform != "" {
			plat = " [" + t.Platform + "]"
		}
		fmt.Fprintf(out, "%s%s: %s %s\n", t.Ref, plat, state, t.Stored)
	}
	fmt.Fprintf(out, "%s: %d references, %d fetched\n", dir, len(ts), fetched)
	return nil
}
