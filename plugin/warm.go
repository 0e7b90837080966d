package plugin

import (
	"context"
	"fmt"
	"runtime"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/features"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/internal/policy"
)

// warmOptions are the flags of `docker devcache warm`.
type warmOptions struct {
	dir      string
	images   []string
	noConfig bool
	lock     lockFlags
	reg      registryOptions
}

// warmTarget is one reference to have in the layout for a platform ("" for
// feature artifacts).
type warmTarget struct {
	Ref string `json:"ref"`
	// As is the reference as the config wrote it (a tag), recorded so
	// that builds can resolve it from the layout offline.
	As       string `json:"as,omitempty"`
	Platform string `json:"platform,omitempty"`
	// Digest is what the reference points to; Stored the manifest stored.
	Digest string `json:"digest"`
	Stored string `json:"stored"`
	// Fetched is false when the layout already held it.
	Fetched bool `json:"fetched"`
	Blobs   int  `json:"blobsDownloaded"`
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
	addLockFlags(f, &o.lock)
	addRegistryFlags(f, &o.reg)
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
	ctx, cancel := o.reg.context(cmd)
	defer cancel()
	reg, err := o.reg.newRegistry(root.credentials())
	if err != nil {
		return err
	}
	lay, err := openWarmLayout(o.dir)
	if err != nil {
		return err
	}
	mode, err := o.lock.mode()
	if err != nil {
		return err
	}
	platforms := root.platforms
	if len(platforms) == 0 {
		platforms = []string{"linux/" + runtime.GOARCH}
	}
	var targets []warmTarget
	for _, img := range o.images {
		if err := reg.policy.CheckImage(policy.KindImage, img); err != nil {
			return err
		}
		for _, p := range platforms {
			targets = append(targets, warmTarget{Ref: img, Platform: p})
		}
	}
	if !o.noConfig {
		cfgTargets, err := configTargets(ctx, root, reg, lay, mode, configs)
		if err != nil {
			return err
		}
		targets = append(targets, cfgTargets...)
	}
	targets = dedupeTargets(targets)
	for i := range targets {
		if err := warmOne(ctx, reg, lay, &targets[i]); err != nil {
			return err
		}
	}
	return printWarm(cmd, root.format, o.dir, targets)
}

// configTargets computes the Plans of the configs (resolving through the
// layout, so a warm layout needs one HEAD per tag) and lists what they
// pull, all by digest: the base image, every external image the Dockerfile
// names, and the OCI features.
func configTargets(ctx context.Context, root *rootOptions, reg *registry, lay *warmLayout, mode plan.LockMode, configs []string) ([]warmTarget, error) {
	roots := []*rootOptions{root}
	if len(configs) > 0 {
		roots = nil
		for _, c := range configs {
			r := *root
			r.config = c
			roots = append(roots, &r)
		}
	}
	var out []warmTarget
	for _, r := range roots {
		ws, err := r.resolveWorkspace()
		if err != nil {
			return nil, err
		}
		platforms := r.platforms
		if len(platforms) == 0 {
			platforms = []string{""}
		}
		cfg, err := loadConfig(ws, reg)
		if err != nil {
			return nil, err
		}
		res := &onceImages{Resolver: &layoutResolver{Resolver: reg.resolver(), reg: reg, lay: lay}}
		for _, p := range platforms {
			pr, err := plan.ForConfig(ctx, ws.Folder, cfg, plan.Options{ConfigPath: ws.ConfigPath, Resolver: res, Platform: p, Lock: mode})
			if err != nil {
				return nil, err
			}
			pl := pr.Plan
			if img := pl.Base.Image; img != nil {
				out = append(out, warmTarget{Ref: repoOf(img.Ref) + "@" + img.Digest, As: img.Ref, Platform: pl.Platform})
			}
			if df := pl.Base.Dockerfile; df != nil {
				for _, im := range df.Images {
					out = append(out, warmTarget{Ref: repoOf(im.Ref) + "@" + im.Digest, As: im.Ref, Platform: pl.Platform})
				}
			}
			for _, f := range pl.Features {
				if f.Source.Kind == features.KindOCI {
					t := warmTarget{Ref: f.Source.Repository + "@" + f.Source.ManifestDigest}
					if o, err := features.ParseOCIRef(features.BackwardCompatibleID(f.UserFeatureID)); err == nil && o.Tag != "" && o.Digest == "" {
						t.As = featureTagRef(o)
					}
					out = append(out, t)
				}
			}
		}
	}
	return out, nil
}

func dedupeTargets(ts []warmTarget) []warmTarget {
	seen := map[string]bool{}
	var out []warmTarget
	for _, t := range ts {
		k := t.Ref + "\x00" + t.Platform
		if !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Ref+out[i].Platform < out[j].Ref+out[j].Platform })
	return out
}

// warmOne makes sure the layout holds t: no request for a digest already
// there, one HEAD for a tag whose digest is there, else a fetch of what is
// missing.
func warmOne(ctx context.Context, reg *registry, lay *warmLayout, t *warmTarget) error {
	ref, err := name.ParseReference(t.Ref)
	if err != nil {
		return fmt.Errorf("--image %q: %w", t.Ref, err)
	}
	pointedTo := ""
	if d, ok := ref.(name.Digest); ok {
		pointedTo = d.DigestStr()
	} else {
		h, err := reg.head(ctx, ref)
		if err != nil {
			return fmt.Errorf("warming %s: %w", t.Ref, err)
		}
		pointedTo = h.String()
	}
	t.Digest = pointedTo
	if d, ok := lay.find(pointedTo, t.Platform); ok {
		t.Stored = d.Digest.String()
		return nil
	}
	desc, err := remote.Get(ref.Context().Digest(pointedTo), reg.options(ctx)...)
	if err != nil {
		return fmt.Errorf("warming %s: %w", t.Ref, err)
	}
	var img v1.Image
	if desc.MediaType.IsIndex() {
		if t.Platform == "" {
			return fmt.Errorf("warming %s: an index needs a platform", t.Ref)
		}
		p, err := v1.ParsePlatform(t.Platform)
		if err != nil {
			return err
		}
		img, err = remote.Image(ref.Context().Digest(pointedTo), append(reg.options(ctx), remote.WithPlatform(*p))...)
		if err != nil {
			return fmt.Errorf("warming %s for %s: %w", t.Ref, t.Platform, err)
		}
	} else {
		if img, err = desc.Image(); err != nil {
			return fmt.Errorf("warming %s: %w", t.Ref, err)
		}
	}
	as := t.As
	if as == "" {
		if _, isTag := ref.(name.Tag); isTag {
			as = t.Ref
		}
	}
	n, err := lay.add(img, t.Ref, as, pointedTo, t.Platform)
	if err != nil {
		return fmt.Errorf("warming %s: %w", t.Ref, err)
	}
	d, _ := img.Digest()
	t.Stored, t.Fetched, t.Blobs = d.String(), true, n
	return nil
}

func printWarm(cmd *cobra.Command, format, dir string, ts []warmTarget) error {
	out := cmd.OutOrStdout()
	if format == "json" {
		return writeJSON(out, map[string]any{"dir": dir, "refs": ts})
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

// layoutResolver resolves images that the warm layout already holds from
// it (one HEAD for a tag, nothing for a digest), and OCI feature tags with
// one HEAD and then by digest (whose manifest and layer the resolve cache
// keeps), so that re-warming an unchanged config fetches no blob.
type layoutResolver struct {
	plan.Resolver
	reg *registry
	lay *warmLayout
}

func (r *layoutResolver) ResolveImage(ctx context.Context, ref, platform string) (*devcontainer.Image, error) {
	if err := r.reg.policy.CheckImage(policy.KindImage, ref); err != nil {
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
		h, err := r.reg.head(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", ref, err)
		}
		pointedTo = h.String()
	}
	if d, ok := r.lay.find(pointedTo, platform); ok {
		return r.lay.image(ref, platform, d)
	}
	return r.Resolver.ResolveImage(ctx, ref, platform)
}

func (r *layoutResolver) Resolve(ctx context.Context, ref *features.Ref, pin string) (*features.Source, error) {
	if err := checkFeature(r.reg.policy, ref); err != nil {
		return nil, err
	}
	if ref.Kind == features.KindOCI && pin == "" && ref.OCI.Digest == "" && ref.OCI.Tag != "" {
		repo, err := name.NewRepository(ref.OCI.Registry+"/"+ref.OCI.Path, name.WeakValidation)
		if err == nil {
			h, err := r.reg.head(ctx, repo.Tag(ref.OCI.Tag))
			if err != nil {
				return nil, fmt.Errorf("feature %s: %w", ref.UserFeatureID, err)
			}
			pin = h.String()
		}
	}
	return r.Resolver.Resolve(ctx, ref, pin)
}
