package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/spf13/cobra"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/plugin/build"
	"github.com/devcache/devcache/plugin/builder"
	"github.com/devcache/devcache/plugin/cache"
	"github.com/devcache/devcache/plugin/resolver"
)

// pushOptions are the flags of `docker devcache push`.
type pushOptions struct {
	cacheRepo    string
	cacheScope   string
	cacheDir     string
	tags         []string
	metadataFile string
	resolve      resolveFlags
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
	addResolveFlags(f, &opts.resolve, &opts.reg)
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

// pushRun is one push: its inputs, as the flags give them, and its result.
type pushRun struct {
	cmd      *cobra.Command
	root     *rootOptions
	opts     *pushOptions
	ro       resolver.Options
	repo     name.Repository
	cacheDir string
	tags     []name.Tag
	plans    []*plan.Plan
	tag      string // the key tag
	res      *pushResult
}

func runPush(cmd *cobra.Command, root *rootOptions, opts *pushOptions) error {
	p, err := newPushRun(cmd, root, opts)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	// Resolving and the lookup are bounded by --timeout; the build is not.
	lookupCtx, cancel := withTimeout(ctx, opts.reg.timeout)
	defer cancel()
	resolved, err := resolver.Plans(lookupCtx, p.ro)
	if err != nil {
		return err
	}
	p.plans, p.tag = resolved.Plans, cache.TagOf(resolved.Key)
	p.res = &pushResult{Key: resolved.Key, KeyTag: p.repo.Tag(p.tag).String(), Scope: cache.Scope(opts.cacheScope, p.plans)}

	// A hit builds nothing.
	desc, err := cache.Lookup(lookupCtx, p.ro.Registry, p.repo, p.tag)
	if err != nil {
		return err
	}
	if desc != nil {
		p.res.Cached = true
		p.readBuildTime(lookupCtx, desc)
		return p.finish(ctx, desc)
	}
	// A miss: build with the scope's layers, push by digest, then claim
	// the key tag unless another push did meanwhile.
	final, err := p.buildAndClaim(ctx)
	if err != nil {
		return err
	}
	return p.finish(ctx, final)
}

// newPushRun checks the flags and turns them into typed values.
func newPushRun(cmd *cobra.Command, root *rootOptions, opts *pushOptions) (*pushRun, error) {
	p := &pushRun{cmd: cmd, root: root, opts: opts}
	var err error
	if p.repo, err = cacheRepository(opts.cacheRepo); err != nil {
		return nil, err
	}
	if p.cacheDir, err = absDir(opts.cacheDir); err != nil {
		return nil, err
	}
	if p.tags, err = parseTags(opts.tags); err != nil {
		return nil, err
	}
	if p.ro, err = opts.resolve.options(root, &opts.reg); err != nil {
		return nil, err
	}
	return p, nil
}

// readBuildTime records the build time the hit's build info holds; a
// failure to read it is a warning.
func (p *pushRun) readBuildTime(ctx context.Context, desc *remote.Descriptor) {
	info, ok, err := cache.ReadBuildInfo(ctx, p.ro.Registry, p.repo, desc.Digest)
	if err != nil {
		fmt.Fprintf(p.cmd.ErrOrStderr(), "warning: %v\n", err)
	}
	if ok {
		p.res.BuildSeconds = info.Duration.Seconds()
	}
}

// buildAndClaim builds and pushes the image by digest, claims the key tag
// and records the build info; it returns what the key tag holds.
func (p *pushRun) buildAndClaim(ctx context.Context) (*remote.Descriptor, error) {
	reg := p.ro.Registry
	start := time.Now()
	dgst, err := p.build(ctx)
	if build.IsUploadRace(err) {
		// Another push uploaded the same blobs at the same moment; the
		// registry refused one of them. Everything is cached now: solving
		// again only repeats the export.
		fmt.Fprintf(p.cmd.ErrOrStderr(), "pushing raced another push of the same layers (%v); pushing again\n", firstLine(err))
		dgst, err = p.build(ctx)
	}
	if err != nil {
		return nil, err
	}
	duration := time.Since(start)
	p.res.BuildSeconds = duration.Seconds()
	built, err := remote.Get(p.repo.Digest(dgst), reg.Options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("reading the pushed image %s@%s: %w", p.repo, dgst, err)
	}
	final, stored, err := cache.Claim(ctx, reg, p.repo, p.tag, built)
	if err != nil {
		return nil, err
	}
	p.res.Stored = stored
	if stored {
		if err := cache.WriteBuildInfo(ctx, reg, p.repo, final, cache.BuildInfo{
			Key: p.res.Key, KeyInputs: cache.KeyInputs(p.plans), Duration: duration, Created: time.Now(),
		}); err != nil {
			return nil, err
		}
	} else if final.Digest != built.Digest {
		fmt.Fprintf(p.cmd.ErrOrStderr(), "%s was stored by another push meanwhile (%s); using it, not this build's %s\n", p.res.KeyTag, final.Digest, built.Digest)
	}
	return final, nil
}

// build runs the keyed build with the scope's layer cache and returns the
// digest of the image it pushed.
func (p *pushRun) build(ctx context.Context) (string, error) {
	c, _, err := builder.Connect(ctx, p.root.builderOptions(true))
	if err != nil {
		return "", err
	}
	defer c.Close()
	lc := build.LayerCache{Repo: &p.repo, Dir: p.cacheDir, Scope: p.res.Scope}
	cacheExports, err := lc.Exports(true)
	if err != nil {
		return "", fmt.Errorf("--cache-dir: %w", err)
	}
	resp, err := build.Solve(ctx, c, build.Request{
		ContextDir:   p.ro.Workspace.Folder,
		ConfigPath:   p.ro.Workspace.ConfigPath,
		Plans:        p.plans,
		Allow:        p.ro.Policy.Attr(),
		Warm:         p.ro.Warm,
		Exports:      []client.ExportEntry{keyedExport(p.repo, p.plans, p.res)},
		CacheImports: lc.Imports(),
		CacheExports: cacheExports,
		BuildArgs:    map[string]string{"SOURCE_DATE_EPOCH": keyedEpoch},
		Credentials:  p.root.credentials(),
		Progress:     p.root.progress,
		ProgressOut:  p.cmd.ErrOrStderr(),
	})
	if err != nil {
		return "", err
	}
	dgst := resp.ExporterResponse[exptypes.ExporterImageDigestKey]
	if dgst == "" {
		return "", errors.New("the builder pushed the image but did not report its digest; is it BuildKit v0.13 or newer?")
	}
	return dgst, nil
}

// keyedEpoch is the SOURCE_DATE_EPOCH of every keyed image: the Unix
// epoch, whatever the environment says, so that the image depends on its
// Plan only (the key does not hash a time).
const keyedEpoch = "0"

// keyedCompressionLevel is the gzip level of the keyed image's new layers.
// Like the epoch, it is part of what makes two builders push the same
// digest.
const keyedCompressionLevel = "1"

// keyedExport pushes the image by digest only (push claims the key tag
// afterwards), reproducibly, with the Plans it was built from.
//
// Reproducibility (rewrite-timestamp) makes BuildKit compress each new
// layer twice: once when it exports the layer, once more after clamping
// the layer's timestamps. gzip level 1 makes both about three times faster
// than the default level 6, for layers a few per cent larger, still gzip
// that every client reads (bench/build/RESULTS.md).
func keyedExport(repo name.Repository, plans []*plan.Plan, res *pushResult) client.ExportEntry {
	attrs := map[string]string{
		"name":              repo.Name(),
		"push":              "true",
		"push-by-digest":    "true",
		"rewrite-timestamp": "true",
		"oci-mediatypes":    "true",
		"compression":       "gzip",
		"compression-level": keyedCompressionLevel,
	}
	ann := map[string]string{
		cache.AnnotationKey:   res.Key,
		cache.AnnotationPlans: cache.PlansAnnotation(plans),
		cache.AnnotationScope: res.Scope,
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

// finish adds the --tags and reports the entry desc.
func (p *pushRun) finish(ctx context.Context, desc *remote.Descriptor) error {
	res := p.res
	if err := cache.AddTags(ctx, p.ro.Registry, p.repo, desc, p.tags); err != nil {
		return err
	}
	res.Digest = desc.Digest.String()
	res.Ref = p.repo.Digest(res.Digest).String()
	for _, t := range p.tags {
		res.Tags = append(res.Tags, t.String())
	}
	// hit= (true when nothing was built), cached-image= and key-tag=: the
	// outputs probe writes, so that a workflow can use either.
	if err := appendGitHubOutput(res.Cached, res.Ref, res.KeyTag); err != nil {
		return err
	}
	if err := writeMetadataFile(p.opts.metadataFile, res); err != nil {
		return err
	}
	return printPush(p.cmd, p.root.format, res)
}

// printPush writes the result as JSON or text.
func printPush(cmd *cobra.Command, format string, res *pushResult) error {
	out := cmd.OutOrStdout()
	switch format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		return enc.Encode(res)
	case "text", "":
	default:
		return fmt.Errorf("unknown --format %q (text or json)", format)
	}
	if res.Cached {
		saved := "build time not recorded"
		if res.BuildSeconds > 0 {
			saved = savedTime(time.Duration(res.BuildSeconds*float64(time.Second))) + " build time"
		}
		_, err := fmt.Fprintf(out, "⚡ Using pre-built dev container %s (saved %s)\n", res.Ref, saved)
		return err
	}
	_, err := fmt.Fprintln(out, res.Ref)
	return err
}

// firstLine is the first line of err's message.
func firstLine(err error) string {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		return msg[:i]
	}
	return msg
}
