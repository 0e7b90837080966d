package plugin

import (
	"github.com/devcache/devcache/plugin/cmdline"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/spf13/cobra"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/internal/retry"
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
	maxAge       time.Duration
	resolve      cmdline.ResolveFlags
	reg          cmdline.RegistryFlags
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
layer cache of the key and of the config's scope imported, pushed to the key
tag (and the --tag references), and every layer is exported to the key's and
the scope's layer caches (<cache-repo>:cache-dc-<key> and
<cache-repo>:cache-<scope>, mode=max, while the key tag is claimed), so a
later edit rebuilds only what changed, and so does a build of an earlier
config of the scope.

With --max-age, an entry older than that is rebuilt: without the layer
cache (every step runs again, the base image is pulled again, so package
updates land), kept under its generation tag <cache-repo>:dc-<key>-<digest>,
and dc-<key> moves to it. A fresher entry is a hit, as without --max-age.
Otherwise key tags are never overwritten. With several --platform values the
entry is one index, also tagged with each platform's own key, so that probe
for one platform of the set finds it.

The image is reproducible (SOURCE_DATE_EPOCH,
rewritten layer timestamps, no provenance): two builders pushing one Plan push
the same manifest. Its build time, push time, key inputs and devcache version
are recorded in a build-info artifact that refers to it.

The key tag is written last, once the image is read back by digest with every
blob present: a push that fails or is killed leaves a miss, never a key tag
on an incomplete image. A failing build-info record or registry layer cache
export is a warning; the entry is stored. Transient registry failures are
retried until --timeout (see docs/failure-behaviour.md).

When $GITHUB_OUTPUT is set, hit=, cached-image= and key-tag= are appended to
it, as probe does.`,
		Example: `  # In CI, before the dev container is needed
  docker devcache push --cache-repo registry.example.com/team/devcache

  # Rebuild weekly, so that security updates land (probe --max-age 7d agrees)
  docker devcache push --cache-repo registry.example.com/team/devcache --max-age 7d

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
	cmdline.DurationVar(f, &opts.maxAge, "max-age", 0, "Rebuild an entry older than this without the layer cache (e.g. 7d; 0: any age is a hit)")
	f.StringVar(&opts.metadataFile, "metadata-file", "", "Write the result (digest, key, cache hit) as JSON to this file")
	cmdline.AddResolveFlags(f, &opts.resolve, &opts.reg)
	cmdline.AddWarmCacheFlag(f, &opts.reg)
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
	// Warnings are failures after the key tag was written that left the
	// entry intact (build info, layer cache export).
	Warnings []string `json:"warnings,omitempty"`
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
	// stale is the entry --max-age rebuilds; nil without.
	stale *remote.Descriptor
	res   *pushResult
}

func runPush(cmd *cobra.Command, root *rootOptions, opts *pushOptions) error {
	p, err := newPushRun(cmd, root, opts)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	// Resolving and the lookup are bounded by --timeout; the build is not.
	lookupCtx, cancel := cmdline.WithTimeout(ctx, opts.reg.Timeout)
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
		stale := ""
		if opts.maxAge > 0 {
			if _, stale, err = cache.Stale(lookupCtx, p.ro.Registry, p.repo, p.tag, opts.maxAge, "--max-age", time.Now()); err != nil {
				return err
			}
		}
		if stale == "" {
			p.res.Cached = true
			p.readBuildTime(lookupCtx, desc)
			// An entry of an older devcache may lack its platform pointers.
			if err := cache.PointPlatforms(lookupCtx, p.ro.Registry, p.repo, cache.PlatformKeys(p.plans), desc, nil); err != nil {
				return err
			}
			return p.finish(ctx, desc)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "%s; rebuilding it without the layer cache\n", stale)
		p.stale = desc
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
	if p.repo, err = cmdline.CacheRepository(opts.cacheRepo); err != nil {
		return nil, err
	}
	if p.cacheDir, err = cmdline.AbsDir(opts.cacheDir); err != nil {
		return nil, err
	}
	if p.tags, err = cmdline.ParseTags(opts.tags); err != nil {
		return nil, err
	}
	if p.ro, err = opts.resolve.Options(root.Root, &opts.reg); err != nil {
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

// buildAndClaim builds and pushes the image by digest (exporting the
// layer cache), checks it is complete in the registry, claims the key tag
// and records the build info; it returns what the key tag holds. The key
// tag is written only after the whole image is in the registry (read back
// by digest, every blob present); the build info and the layer cache may
// fail with a warning but cannot harm the entry. The registry layer cache
// is exported while the key tag's claim settles (see built.exportCache).
func (p *pushRun) buildAndClaim(ctx context.Context) (*remote.Descriptor, error) {
	start := time.Now()
	b, err := p.buildWithRetries(ctx)
	if err != nil {
		return nil, err
	}
	duration := time.Since(start)
	p.res.BuildSeconds = duration.Seconds()
	// The layer cache export uploads like the build does (unbounded); the
	// registry steps after the build are bounded by --timeout.
	cacheCtx, stopCache := context.WithCancel(ctx)
	defer stopCache()
	ctx, cancel := cmdline.WithTimeout(ctx, p.opts.reg.Timeout)
	defer cancel()
	laterErrs := make(chan []string, 1)
	go func() { laterErrs <- b.exportCache(cacheCtx) }()
	final, err := p.verifyAndClaim(ctx, b.digest)
	if err != nil {
		stopCache()
		<-laterErrs
		return nil, err
	}
	if p.res.Stored {
		if err := cache.WriteBuildInfo(ctx, p.ro.Registry, p.repo, final, cache.BuildInfo{
			Key: p.res.Key, KeyInputs: cache.KeyInputs(p.plans), Duration: duration, Created: time.Now(),
		}); err != nil {
			p.warn("%v; the entry is stored, only its build time is unknown (probe --max-age then reads the image's created time)", err)
		}
	}
	for _, e := range append(b.cacheErrs, <-laterErrs...) {
		to := p.repo.Tag(cache.ScopeTag(p.res.Scope)).String()
		if p.cacheDir != "" {
			to += " and --cache-dir " + p.cacheDir
		}
		p.warn("the layer cache export to %s failed; the entry is stored, but a later edit may rebuild more than it changed: %s", to, e)
	}
	return final, nil
}

// buildWithRetries builds and pushes the image by digest, solving again
// after a push that raced another or met a transient registry failure.
func (p *pushRun) buildWithRetries(ctx context.Context) (*built, error) {
	b, err := p.build(ctx)
	if err != nil && p.cacheDir != "" && strings.Contains(err.Error(), p.cacheDir) {
		// BuildKit's client writes the local layer cache itself: its
		// failure (a full disk) fails the solve, after the image's push
		// but before the key tag.
		return nil, fmt.Errorf("--cache-dir %s: %w (free space there or drop --cache-dir, then push again; %s was not written)", p.cacheDir, err, p.res.KeyTag)
	}
	for attempt := 1; attempt <= pushAttempts && err != nil; attempt++ {
		// Another push uploaded the same blobs at the same moment and the
		// registry refused one of them, or the registry failed in a way
		// BuildKit does not retry (long enough). Everything is cached now:
		// solving again only repeats the export.
		switch {
		case build.IsUploadRace(err):
			fmt.Fprintf(p.cmd.ErrOrStderr(), "pushing raced another push of the same layers (%v); pushing again\n", firstLine(err))
		case build.IsTransientPush(err):
			wait := retry.Default.Backoff(attempt + 3) // seconds, not milliseconds
			fmt.Fprintf(p.cmd.ErrOrStderr(), "pushing failed transiently (%v); pushing again in %s\n", firstLine(err), wait.Round(time.Millisecond))
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return nil, err
			}
		default:
			return nil, err
		}
		b, err = p.build(ctx)
	}
	return b, err
}

// verifyAndClaim reads the pushed image back by digest, checks every blob
// is there, and claims the key tag.
func (p *pushRun) verifyAndClaim(ctx context.Context, dgst string) (*remote.Descriptor, error) {
	if dgst == "" {
		return nil, errors.New("the builder pushed the image but did not report its digest; is it BuildKit v0.13 or newer?")
	}
	reg := p.ro.Registry
	built, err := remote.Get(p.repo.Digest(dgst), reg.Options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("reading the pushed image %s@%s: %w", p.repo, dgst, err)
	}
	if err := cache.Verify(ctx, reg, p.repo, built); err != nil {
		return nil, fmt.Errorf("the pushed image is incomplete in the registry, so %s was not written; run push again: %w", p.res.KeyTag, err)
	}
	final, stored, err := p.store(ctx, built)
	if err != nil {
		return nil, err
	}
	p.res.Stored = stored
	if !stored && final.Digest != built.Digest {
		fmt.Fprintf(p.cmd.ErrOrStderr(), "%s was stored by another push meanwhile (%s); using it, not this build's %s\n", p.res.KeyTag, final.Digest, built.Digest)
	}
	return final, nil
}

// warn reports a failure that leaves the entry intact: on stderr and in
// the result's warnings.
func (p *pushRun) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.res.Warnings = append(p.res.Warnings, msg)
	fmt.Fprintf(p.cmd.ErrOrStderr(), "warning: %s\n", msg)
}

// store points the key tag at built: claimed on a miss, moved from the
// stale entry on a rebuild. A stored entry also gets its generation tag and,
// for several platforms, each platform's pointer.
func (p *pushRun) store(ctx context.Context, built *remote.Descriptor) (*remote.Descriptor, bool, error) {
	reg := p.ro.Registry
	final, stored := built, true
	var previous *v1.Hash
	if p.stale != nil {
		previous = &p.stale.Digest
		if err := cache.Replace(ctx, reg, p.repo, p.tag, built); err != nil {
			return nil, false, err
		}
	} else {
		var err error
		if final, stored, err = cache.Claim(ctx, reg, p.repo, p.tag, built); err != nil {
			return nil, false, err
		}
	}
	if !stored {
		return final, false, nil
	}
	if err := cache.TagGeneration(ctx, reg, p.repo, p.res.Key, final); err != nil {
		return nil, false, err
	}
	return final, true, cache.PointPlatforms(ctx, reg, p.repo, cache.PlatformKeys(p.plans), final, previous)
}

// built is a pushed image: its digest, the layer cache exports' errors
// so far, and the export still to run.
type built struct {
	digest    string
	cacheErrs []string
	// exportCache runs the registry layer cache export left out of the
	// image's solve (nothing when there is none) and releases the builder;
	// it returns the export's errors. It must be called once.
	exportCache func(context.Context) []string
}

// build runs the keyed build with the scope's layer cache and pushes the
// image by digest. A builder whose nodes declare different platforms
// builds each platform on its node (one solve per node, in parallel,
// exporting the layer cache too) and the nodes' indexes are merged into
// one. On one node the registry layer cache export is left to a second
// solve (every step cached by then) that the caller runs while it claims
// the key tag: the image does not wait for its layer cache.
func (p *pushRun) build(ctx context.Context) (*built, error) {
	parts, _, err := builder.ConnectPlatforms(ctx, p.root.builderOptions(true), build.Platforms(p.plans))
	if err != nil {
		return nil, err
	}
	export := keyedExport(p.repo, p.plans, p.res)
	nothing := func(context.Context) []string { builder.Close(parts); return nil }
	if len(parts) > 1 {
		dgst, errs, err := p.buildParts(ctx, parts, export)
		builder.Close(parts)
		if err != nil {
			return nil, err
		}
		return &built{digest: dgst, cacheErrs: errs, exportCache: func(context.Context) []string { return nil }}, nil
	}
	c := parts[0].Client
	// A stale entry's rebuild ignores the builder's cache; a second solve
	// would not export the layers it built.
	later := p.stale == nil
	dgst, errs, err := p.solve(ctx, c, p.plans, &export, p.root.Progress, false, later)
	if err != nil {
		builder.Close(parts)
		return nil, err
	}
	if !later {
		return &built{digest: dgst, cacheErrs: errs, exportCache: nothing}, nil
	}
	exportCache := func(ctx context.Context) []string {
		defer builder.Close(parts)
		_, errs, err := p.solve(ctx, c, p.plans, nil, p.root.Progress, false, false)
		if err != nil {
			errs = append(errs, err.Error())
		}
		return errs
	}
	return &built{digest: dgst, cacheErrs: errs, exportCache: exportCache}, nil
}

// buildParts builds each node's platforms on it and merges the nodes'
// indexes with the entry's annotations into the index one node would
// have pushed (build.SolveNodes).
func (p *pushRun) buildParts(ctx context.Context, parts []builder.Part, export client.ExportEntry) (string, []string, error) {
	return build.SolveNodes(ctx, p.ro.Registry, p.repo, buildNodes(parts), p.plans, export, p.root.Progress,
		func(plans []*plan.Plan, export client.ExportEntry, progress string) (build.Request, error) {
			return p.request(plans, &export, progress, true, false)
		})
}

// solve runs one keyed solve of plans on c (see request) and returns the
// pushed digest and the failed layer cache exports.
func (p *pushRun) solve(ctx context.Context, c *client.Client, plans []*plan.Plan, export *client.ExportEntry, progress string, multi, laterCache bool) (string, []string, error) {
	req, err := p.request(plans, export, progress, multi, laterCache)
	if err != nil {
		return "", nil, err
	}
	resp, err := build.Solve(ctx, c, req)
	if err != nil {
		return "", nil, err
	}
	return resp.ExporterResponse[exptypes.ExporterImageDigestKey], resp.CacheExportErrors, nil
}

// request is one keyed solve of plans. With export nil it is the registry
// layer cache export alone, of a solve that already ran (no image, no
// imports: every step is in the builder's cache); with laterCache the
// image's solve leaves that export out. A node's share of a multi-node
// build (multi) keeps its layer cache under a scope of its own
// (scope@platforms), so the nodes do not overwrite each other's, and also
// reads the scope's.
func (p *pushRun) request(plans []*plan.Plan, export *client.ExportEntry, progress string, multi, laterCache bool) (build.Request, error) {
	lc := build.LayerCache{Repo: &p.repo, Dir: p.cacheDir, Scope: p.res.Scope}
	scopeImports := lc.Imports()
	lc.Key = plan.KeyOf(plans)
	if multi {
		lc.Scope += "@" + strings.Join(build.Platforms(plans), ",")
	}
	imports := lc.Imports()
	if multi {
		imports = append(imports, scopeImports...)
	}
	cacheExports, err := lc.Exports(true)
	if err != nil {
		return build.Request{}, fmt.Errorf("--cache-dir: %w", err)
	}
	var exports []client.ExportEntry
	aliases := lc.Aliases()
	switch {
	case export == nil:
		imports, cacheExports = nil, build.RegistryCaches(cacheExports, true)
	case laterCache:
		exports, cacheExports = []client.ExportEntry{*export}, build.RegistryCaches(cacheExports, false)
		aliases = nil
	default:
		exports = []client.ExportEntry{*export}
	}
	// A rebuild of a stale entry runs every step again; its layers still
	// refresh the scope's layer cache.
	if p.stale != nil {
		imports = nil
	}
	return build.Request{
		ContextDir:    p.ro.Workspace.Folder,
		ConfigPath:    p.ro.Workspace.ConfigPath,
		Plans:         plans,
		Allow:         p.ro.Policy.Attr(),
		Warm:          p.ro.Warm,
		Exports:       exports,
		CacheImports:  imports,
		NoCache:       p.stale != nil,
		CacheExports:  cacheExports,
		BuildArgs:     map[string]string{"SOURCE_DATE_EPOCH": keyedEpoch},
		MultiPlatform: multi,
		Credentials:   p.root.Credentials(),
		CacheAliases:  aliases,
		Registry:      p.ro.Registry,
		Progress:      progress,
		ProgressOut:   p.cmd.ErrOrStderr(),
	}, nil
}

// pushAttempts is how many more times push solves after a push that raced
// or met a transient registry failure.
const pushAttempts = 2

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
	if err := cmdline.AppendGitHubOutput(res.Cached, res.Ref, res.KeyTag); err != nil {
		return err
	}
	if err := cmdline.WriteMetadataFile(p.opts.metadataFile, res); err != nil {
		return err
	}
	return printPush(p.cmd, p.root.Format, res)
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
			saved = cmdline.SavedTime(time.Duration(res.BuildSeconds*float64(time.Second))) + " build time"
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
