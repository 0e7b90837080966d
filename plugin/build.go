package plugin

import (
	"github.com/devcache/devcache/plugin/cmdline"
	"github.com/distribution/reference"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/spf13/cobra"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/plugin/build"
	"github.com/devcache/devcache/plugin/builder"
	"github.com/devcache/devcache/plugin/cache"
	"github.com/devcache/devcache/plugin/registry"
	"github.com/devcache/devcache/plugin/resolver"
)

type buildOptions struct {
	tags         []string
	push         bool
	load         bool
	outputs      []string
	noCache      bool
	cacheFrom    []string
	cacheTo      []string
	buildArgs    []string
	metadataFile string
	cacheRepo    string
	cacheScope   string
	cacheDir     string
	resolve      cmdline.ResolveFlags
	reg          cmdline.RegistryFlags
}

func newBuildCommand(root *rootOptions) *cobra.Command {
	var opts buildOptions
	cmd := &cobra.Command{
		Use:   "build [OPTIONS]",
		Short: "Build the workspace's dev container image",
		Long: `Build the image that the workspace's devcontainer.json describes, running the
devcache frontend in-process against the builder (the current buildx builder,
--builder NAME, or --buildkit-host ADDR). Outputs work as in docker buildx build.`,
		Example: `  # Build and push
  docker devcache build --push -t registry.example.com/team/dev:latest

  # Build into an OCI layout tarball, against a standalone BuildKit daemon
  docker devcache build --buildkit-host unix:///run/buildkit/buildkitd.sock -o type=oci,dest=dev.tar`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBuild(cmd, root, &opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&opts.tags, "tag", "t", nil, "Image name and tag (repeatable)")
	f.BoolVar(&opts.push, "push", false, "Push the image (shorthand for --output type=registry)")
	f.BoolVar(&opts.load, "load", false, "Load the image into the Docker engine (shorthand for --output type=docker)")
	f.StringArrayVarP(&opts.outputs, "output", "o", nil, `Output destination, as in buildx (e.g. "type=oci,dest=out.tar")`)
	f.BoolVar(&opts.noCache, "no-cache", false, "Do not use cache when building")
	f.StringArrayVar(&opts.cacheFrom, "cache-from", nil, `External cache sources (e.g. "type=registry,ref=reg/repo:cache")`)
	f.StringArrayVar(&opts.cacheTo, "cache-to", nil, `Cache export destinations (e.g. "type=registry,ref=reg/repo:cache,mode=max")`)
	f.StringArrayVar(&opts.buildArgs, "build-arg", nil, "Build-time variables (e.g. SOURCE_DATE_EPOCH=0)")
	f.StringVar(&opts.metadataFile, "metadata-file", "", "Write the build result metadata (digest, key) to this file")
	f.StringVar(&opts.cacheRepo, "cache-repo", "", "Import the layer cache of docker devcache push from this repository (read-only access suffices)")
	f.StringVar(&opts.cacheScope, "cache-scope", "", "Layer cache scope (default: the config's path in the workspace)")
	f.StringVar(&opts.cacheDir, "cache-dir", "", "Import and export the layer cache in this local directory")
	cmdline.AddResolveFlags(f, &opts.resolve, &opts.reg)
	cmdline.AddWarmCacheFlag(f, &opts.reg)
	return cmd
}

func runBuild(cmd *cobra.Command, root *rootOptions, opts *buildOptions) error {
	ctx := cmd.Context()
	ro, err := opts.resolve.Options(root.Root, &opts.reg)
	if err != nil {
		return err
	}
	exports, err := exportsFor(opts)
	if err != nil {
		return err
	}
	cacheFrom, cacheTo, err := opts.cacheEntries()
	if err != nil {
		return err
	}
	resolveCtx, cancel := cmdline.WithTimeout(ctx, opts.reg.Timeout)
	defer cancel()
	resolved, err := resolver.Plans(resolveCtx, ro)
	if err != nil {
		return err
	}
	lc, err := opts.layerCache(resolved.Plans)
	if err != nil {
		return err
	}
	localExports, err := lc.Exports(false)
	if err != nil {
		return fmt.Errorf("--cache-dir: %w", err)
	}

	req := build.Request{
		ContextDir:   ro.Workspace.Folder,
		ConfigPath:   ro.Workspace.ConfigPath,
		Plans:        resolved.Plans,
		Allow:        ro.Policy.Attr(),
		Warm:         ro.Warm,
		Exports:      exports,
		CacheImports: append(lc.Imports(), cacheFrom...),
		CacheExports: append(localExports, cacheTo...),
		BuildArgs:    buildArgs(opts.buildArgs),
		NoCache:      opts.noCache,
		Credentials:  root.Credentials(),
		Progress:     root.Progress,
		ProgressOut:  cmd.ErrOrStderr(),
	}
	target, onNodes := nodesPush(exports, req.CacheExports)
	c, parts, info, err := connectBuild(ctx, cmd, root, build.Platforms(resolved.Plans), onNodes)
	if err != nil {
		return err
	}
	if parts != nil {
		defer builder.Close(parts)
		return buildOnNodes(ctx, cmd, root, opts, ro.Registry, parts, req, target, resolved.Key)
	}
	defer c.Close()
	load, err := build.RouteExports(exports, info.Moby, func() (*build.DockerLoad, error) { return root.startDockerLoad(ctx) })
	if err != nil {
		return err
	}
	resp, err := build.Solve(ctx, c, req)
	if load != nil {
		if err != nil {
			if lerr := load.Abort(err); lerr != nil {
				return lerr
			}
		} else if err = load.Wait(); err != nil {
			return err
		}
	}
	if err != nil {
		return err
	}
	return reportBuild(cmd, root, opts, resp.SolveResponse, resolved.Key)
}

// connectBuild connects to the builder node that builds ps, as buildx
// routes platforms: on a builder of several nodes, a platform goes to the
// node that declares it. When different nodes declare the platforms, a
// push (onNodes) gets every node (parts, for buildOnNodes); any other
// output is built on the first node (one result to export).
func connectBuild(ctx context.Context, cmd *cobra.Command, root *rootOptions, ps []string, onNodes bool) (*client.Client, []builder.Part, builder.Info, error) {
	o := root.builderOptions(false)
	parts, info, err := builder.ConnectPlatforms(ctx, o, ps)
	switch {
	case err != nil:
		return nil, nil, info, err
	case len(parts) == 1:
		return parts[0].Client, nil, info, nil
	case onNodes:
		return nil, parts, info, nil
	}
	builder.Close(parts)
	c, info, err := builder.Connect(ctx, o)
	if err == nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "building %s on the builder's first node: its nodes declare them separately, and only a push (--push, or one type=registry output, without --cache-to or --cache-dir) merges builds of several nodes\n", strings.Join(ps, ","))
	}
	return c, nil, info, err
}

// nodesPush tells whether a build with exports and cacheExports can be
// spread over several nodes (build.SolveNodes): one image output that
// pushes, no cache export (the nodes would overwrite each other's). It
// returns the output's names.
func nodesPush(exports []client.ExportEntry, cacheExports []client.CacheOptionsEntry) (string, bool) {
	if len(exports) != 1 || len(cacheExports) != 0 {
		return "", false
	}
	e := exports[0]
	if e.Type != client.ExporterImage || e.Attrs["push"] != "true" || e.Attrs["name"] == "" {
		return "", false
	}
	return e.Attrs["name"], true
}

// buildOnNodes builds req's platforms each on its node, merges the nodes'
// indexes into the first name's repository and points every name at it.
func buildOnNodes(ctx context.Context, cmd *cobra.Command, root *rootOptions, opts *buildOptions, reg *registry.Client, parts []builder.Part, req build.Request, names, key string) error {
	tags, err := cmdline.ParseTags(strings.Split(names, ","))
	if err != nil {
		return err
	}
	repo := tags[0].Context()
	dgst, _, err := build.SolveNodes(ctx, reg, repo, buildNodes(parts), req.Plans, req.Exports[0], req.Progress,
		func(plans []*plan.Plan, export client.ExportEntry, progress string) (build.Request, error) {
			r := req
			r.Plans, r.Exports, r.Progress, r.MultiPlatform = plans, []client.ExportEntry{export}, progress, true
			return r, nil
		})
	if err != nil {
		return err
	}
	desc, err := remote.Get(repo.Digest(dgst), reg.Options(ctx)...)
	if err != nil {
		return fmt.Errorf("reading the merged index %s@%s: %w", repo, dgst, err)
	}
	if err := cache.AddTags(ctx, reg, repo, desc, tags); err != nil {
		return err
	}
	return reportBuild(cmd, root, opts, &client.SolveResponse{ExporterResponse: map[string]string{exptypes.ExporterImageDigestKey: dgst}}, key)
}

// buildNodes are the connected nodes of parts, for build.SolveNodes.
func buildNodes(parts []builder.Part) []build.Node {
	nodes := make([]build.Node, len(parts))
	for i, p := range parts {
		nodes[i] = build.Node{Name: p.Node, Platforms: p.Platforms, Client: p.Client}
	}
	return nodes
}

// startDockerLoad starts --load into the engine of the docker CLI.
func (o *rootOptions) startDockerLoad(ctx context.Context) (*build.DockerLoad, error) {
	if o.dockerCli == nil {
		return nil, errors.New("--load needs the docker CLI and a Docker engine; use --output type=docker,dest=FILE (then docker load -i FILE) or --push")
	}
	return build.StartDockerLoad(ctx, o.dockerCli.Client()), nil
}

// cacheEntries parses --cache-from and --cache-to as buildx does.
func (opts *buildOptions) cacheEntries() (from, to []client.CacheOptionsEntry, err error) {
	if from, err = build.ParseCaches("--cache-from", opts.cacheFrom); err != nil {
		return nil, nil, err
	}
	if to, err = build.ParseCaches("--cache-to", opts.cacheTo); err != nil {
		return nil, nil, err
	}
	return from, to, nil
}

// buildArgs are the --build-arg values (KEY=VALUE, or KEY taken from the
// environment when set), over the environment's SOURCE_DATE_EPOCH.
func buildArgs(vals []string) map[string]string {
	args := map[string]string{}
	if v, ok := os.LookupEnv("SOURCE_DATE_EPOCH"); ok {
		args["SOURCE_DATE_EPOCH"] = v
	}
	for _, a := range vals {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			v, ok = os.LookupEnv(k)
			if !ok {
				continue
			}
		}
		args[k] = v
	}
	return args
}

// layerCache is where build reads layers from: --cache-repo (read only)
// and --cache-dir (read and written).
func (opts *buildOptions) layerCache(plans []*plan.Plan) (build.LayerCache, error) {
	lc := build.LayerCache{Scope: cache.Scope(opts.cacheScope, plans), Key: plan.KeyOf(plans)}
	if opts.cacheRepo != "" {
		repo, err := cmdline.CacheRepository(opts.cacheRepo)
		if err != nil {
			return lc, err
		}
		lc.Repo = &repo
	}
	dir, err := cmdline.AbsDir(opts.cacheDir)
	lc.Dir = dir
	return lc, err
}

// exportsFor turns -t/--push/--load/--output into exporter entries, as
// buildx does.
func exportsFor(opts *buildOptions) ([]client.ExportEntry, error) {
	outputs := opts.outputs
	if opts.push {
		if len(outputs) > 0 {
			return nil, errors.New("--push cannot be combined with --output; use --output type=registry")
		}
		if len(opts.tags) == 0 {
			return nil, errors.New("--push needs at least one --tag")
		}
		outputs = append(outputs, "type=registry")
	}
	if opts.load {
		outputs = append(outputs, "type=docker")
	}
	if len(opts.tags) > 0 && len(outputs) == 0 {
		outputs = append(outputs, "type=image")
	}
	entries, err := build.ParseOutputs(outputs, strings.Join(opts.tags, ","))
	if err != nil {
		return nil, err
	}
	if opts.load {
		docker := 0
		for _, e := range entries {
			if e.Type == client.ExporterDocker {
				docker++
			}
		}
		if docker > 1 {
			return nil, errors.New("--load cannot be combined with --output type=docker")
		}
	}
	return entries, nil
}

func reportBuild(cmd *cobra.Command, root *rootOptions, opts *buildOptions, resp *client.SolveResponse, key string) error {
	meta := map[string]string{}
	maps.Copy(meta, resp.ExporterResponse)
	digest := meta[exptypes.ExporterImageDigestKey]
	meta["devcache.key"] = key
	if err := cmdline.WriteMetadataFile(opts.metadataFile, meta); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if root.Format == "json" {
		return json.NewEncoder(out).Encode(map[string]any{
			"digest": digest,
			"names":  opts.tags,
			"key":    key,
		})
	}
	for _, t := range opts.tags {
		if digest != "" {
			fmt.Fprintf(out, "%s@%s\n", repoOf(t), digest)
		} else {
			fmt.Fprintln(out, t)
		}
	}
	if len(opts.tags) == 0 && digest != "" {
		fmt.Fprintln(out, digest)
	}
	return nil
}

// repoOf returns the repository part of an image reference (no tag/digest).
func repoOf(ref string) string {
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return n.Name()
}
