package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"

	"github.com/devcache/devcache/devcontainer/plan"
)

// pushOptions are the flags of `docker devcache push`.
type pushOptions struct {
	cacheRepo    string
	cacheScope   string
	cacheDir     string
	tags         []string
	metadataFile string
	reg          registryOptions
}

func init() { registerCommand(newPushCommand) }

// newPushCommand is `docker devcache push`: the keyed image, built only
// when the cache repository does not hold it yet.
func newPushCommand(root *rootOptions) *cobra.Command {
	var opts pushOptions
	cmd := &cobra.Command{
		Use:   "push --cache-repo REPO [OPTIONS]",
		Short: "Build the dev container image unless cached, and push it to the cache repository",
		Long: `Resolve the workspace's config to its Plan and key, and look for
<cache-repo>:dc-<key>. When it exists nothing is built: its digest reference is
printed with the build time it saved. Otherwise the image is built with the
layer cache of the config's scope imported, pushed to the key tag (and the
--tag references), and every layer is exported to the scope's layer cache
(<cache-repo>:cache-<scope>, mode=max), so a later edit rebuilds only what
changed.

Key tags are never overwritten. The image is reproducible (SOURCE_DATE_EPOCH,
rewritten layer timestamps, no provenance): two builders pushing one Plan push
the same manifest. Its build time, push time, key inputs and devcache version
are recorded in a build-info artifact that refers to it.

When $GITHUB_OUTPUT is set, hit=, cached-image= and key-tag= are appended to
it, as probe does.`,
		Example: `  # In CI, before the dev container is needed
  docker devcache push --cache-repo registry.example.com/team/devcache

  # Also tag it for humans
  docker devcache push --cache-repo registry.example.com/team/devcache -t registry.example.com/team/dev:main`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPush(cmd, root, &opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.cacheRepo, "cache-repo", "", "Repository of cached images and layers (required), e.g. registry.example.com/team/devcache")
	f.StringVar(&opts.cacheScope, "cache-scope", "", "Layer cache scope (default: the config's path in the workspace)")
	f.StringVar(&opts.cacheDir, "cache-dir", "", "Also import and export the layer cache in this local directory")
	f.StringArrayVarP(&opts.tags, "tag", "t", nil, "Also push the image as this reference (repeatable)")
	f.StringVar(&opts.metadataFile, "metadata-file", "", "Write the result (digest, key, cache hit) as JSON to this file")
	addRegistryFlags(f, &opts.reg)
	addWarmCacheFlag(f, &opts.reg)
	return cmd
}

// pushResult is what push reports (--format json, --metadata-file).
type pushResult struct {
	Ref    string   `json:"ref"` // <repo>@sha256:…
	Digest string   `json:"digest"`
	Key    string   `json:"key"`
	KeyTag string   `json:"keyTag"` // <repo>:dc-<key>
	Cached bool     `json:"cached"` // a hit: nothing was built
	Tags   []string `json:"tags,omitempty"`
	// BuildSeconds is the build time: of this run on a miss, as recorded at
	// push time on a hit (0 when unknown).
	BuildSeconds float64 `json:"buildSeconds"`
	// Stored is false when another push stored the key first (a miss whose
	// result was discarded in favour of the existing entry).
	Stored bool   `json:"stored"`
	Scope  string `json:"scope"`
}

func runPush(cmd *cobra.Command, root *rootOptions, opts *pushOptions) error {
	ctx := cmd.Context()
	repo, err := cacheRepository(opts.cacheRepo)
	if err != nil {
		return err
	}
	cacheDir, err := absDir(opts.cacheDir)
	if err != nil {
		return err
	}
	tags, err := parseTags(opts.tags)
	if err != nil {
		return err
	}
	reg, err := opts.reg.newRegistry(root.credentials())
	if err != nil {
		return err
	}
	ws, err := root.resolveWorkspace()
	if err != nil {
		return err
	}
	// Resolving and the lookup are bounded by --timeout; the build is not.
	lookupCtx, cancel := withTimeout(ctx, opts.reg.timeout)
	defer cancel()
	plans, err := root.resolvePlans(lookupCtx, ws, reg)
	if err != nil {
		return err
	}
	tag := keyTag(plans)
	res := &pushResult{Key: "sha256:" + tag[len(keyTagPrefix):], KeyTag: repo.Tag(tag).String(), Scope: cacheScope(opts.cacheScope, plans)}

	// A hit builds nothing.
	desc, err := lookupEntry(lookupCtx, reg, repo, tag)
	if err != nil {
		return err
	}
	if desc != nil {
		res.Cached = true
		info, ok, err := reg.readBuildInfo(lookupCtx, repo, desc.Digest)
		if err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "warning: %v\n", err)
		}
		if ok {
			res.BuildSeconds = info.Duration.Seconds()
		}
		return finishPush(cmd, root, opts, reg, repo, desc, tags, res)
	}

	// A miss: build with the scope's layers, push by digest, then claim
	// the key tag unless another push did meanwhile.
	c, err := root.cacheExportClient(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	lc := layerCache{repo: &repo, dir: cacheDir, scope: res.Scope}
	cacheExports, err := lc.exports(true)
	if err != nil {
		return err
	}
	start := time.Now()
	resp, err := root.solve(ctx, c, solveRequest{
		ws:           ws,
		plans:        plans,
		allow:        reg.policy.Attr(),
		warm:         reg.warm,
		exports:      []client.ExportEntry{keyedExport(repo, plans, res)},
		cacheImports: lc.imports(),
		cacheExports: cacheExports,
		buildArgs:    map[string]string{"SOURCE_DATE_EPOCH": keyedEpoch},
	}, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	duration := time.Since(start)
	res.BuildSeconds = duration.Seconds()
	dgst := resp.ExporterResponse[exptypes.ExporterImageDigestKey]
	if dgst == "" {
		return errors.New("the builder pushed the image but did not report its digest; is it BuildKit v0.13 or newer?")
	}
	built, err := remote.Get(repo.Digest(dgst), reg.options(ctx)...)
	if err != nil {
		return errors.Wrapf(err, "reading the pushed image %s@%s", repo, dgst)
	}
	final, stored, err := claimKeyTag(ctx, reg, repo, tag, built)
	if err != nil {
		return err
	}
	res.Stored = stored
	if stored {
		if err := reg.writeBuildInfo(ctx, repo, final, buildInfo{
			Key: res.Key, KeyInputs: keyInputs(plans), Duration: duration, Created: time.Now(),
		}); err != nil {
			return err
		}
	} else if final.Digest != built.Digest {
		fmt.Fprintf(cmd.ErrOrStderr(), "%s was stored by another push meanwhile (%s); using it, not this build's %s\n", res.KeyTag, final.Digest, built.Digest)
	}
	return finishPush(cmd, root, opts, reg, repo, final, tags, res)
}

// keyedEpoch is the SOURCE_DATE_EPOCH of every keyed image: the Unix
// epoch, whatever the environment says, so that the image depends on its
// Plan only (the key does not hash a time).
const keyedEpoch = "0"

// keyedExport pushes the image by digest only (push claims the key tag
// afterwards), reproducibly, with the Plans it was built from.
func keyedExport(repo name.Repository, plans []*plan.Plan, res *pushResult) client.ExportEntry {
	attrs := map[string]string{
		"name":              repo.Name(),
		"push":              "true",
		"push-by-digest":    "true",
		"rewrite-timestamp": "true",
		"oci-mediatypes":    "true",
	}
	ann := map[string]string{
		AnnotationKey:   res.Key,
		AnnotationPlans: PlansAnnotation(plans),
		AnnotationScope: res.Scope,
	}
	prefix := "annotation."
	if len(plans) > 1 {
		prefix = "annotation-index."
	}
	for k, v := range ann {
		attrs[prefix+k] = v
	}
	return client.ExportEntry{Type: client.ExporterImage, Attrs: attrs}
}

// lookupEntry HEADs <repo>:<tag> and, when it exists, reads its manifest:
// nil on a 404, an error on anything else (an error is never a miss).
func lookupEntry(ctx context.Context, reg *registry, repo name.Repository, tag string) (*remote.Descriptor, error) {
	wrap := func(err error) error {
		return errors.Wrapf(err, "looking up %s:%s (check --cache-repo and your credentials: docker login %s)", repo, tag, repo.RegistryStr())
	}
	head, err := remote.Head(repo.Tag(tag), reg.options(ctx)...)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(err)
	}
	// By digest: a concurrent retag cannot make the two disagree.
	d, err := remote.Get(repo.Digest(head.Digest.String()), reg.options(ctx)...)
	if err != nil {
		return nil, wrap(err)
	}
	return d, nil
}

// claimKeyTag points the key tag at built unless it exists: a key tag is
// never overwritten. Registries have no conditional tag write, so two
// pushes can both find it absent; they then write the same bytes (the
// image is reproducible), and each reports what the tag holds after its
// write, so all end with one consistent tag.
func claimKeyTag(ctx context.Context, reg *registry, repo name.Repository, tag string, built *remote.Descriptor) (*remote.Descriptor, bool, error) {
	if existing, err := lookupEntry(ctx, reg, repo, tag); err != nil || existing != nil {
		return existing, false, err
	}
	if err := remote.Tag(repo.Tag(tag), built, reg.options(ctx)...); err != nil {
		return nil, false, errors.Wrapf(err, "tagging %s:%s", repo, tag)
	}
	final, err := lookupEntry(ctx, reg, repo, tag)
	if err != nil {
		return nil, false, err
	}
	if final == nil {
		return nil, false, fmt.Errorf("%s:%s vanished right after it was written (a concurrent prune?); run push again", repo, tag)
	}
	return final, final.Digest == built.Digest, nil
}

func parseTags(tags []string) ([]name.Tag, error) {
	var out []name.Tag
	for _, t := range tags {
		n, err := name.NewTag(t)
		if err != nil {
			return nil, errors.Wrapf(err, "--tag %q", t)
		}
		out = append(out, n)
	}
	return out, nil
}

// addTags points each --tag at desc, copying it across repositories.
func addTags(ctx context.Context, reg *registry, repo name.Repository, desc *remote.Descriptor, tags []name.Tag) error {
	for _, t := range tags {
		var err error
		switch {
		case t.Context() == repo:
			err = remote.Tag(t, desc, reg.options(ctx)...)
		case desc.MediaType.IsIndex():
			idx, ierr := desc.ImageIndex()
			if ierr != nil {
				return ierr
			}
			err = remote.WriteIndex(t, idx, reg.options(ctx)...)
		default:
			img, ierr := desc.Image()
			if ierr != nil {
				return ierr
			}
			err = remote.Write(t, img, reg.options(ctx)...)
		}
		if err != nil {
			return errors.Wrapf(err, "pushing --tag %s", t)
		}
	}
	return nil
}

// withTimeout bounds ctx by d (none when d <= 0).
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}
