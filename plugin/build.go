package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/spf13/cobra"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/plugin/build"
	"github.com/devcache/devcache/plugin/builder"
	"github.com/devcache/devcache/plugin/cache"
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
	resolve      resolveFlags
	reg          registryOptions
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
	addResolveFlags(f, &opts.resolve, &opts.reg)
	addWarmCacheFlag(f, &opts.reg)
	return cmd
}

func runBuild(cmd *cobra.Command, root *rootOptions, opts *buildOptions) error {
	ctx := cmd.Context()
	ro, err := opts.resolve.options(root, &opts.reg)
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
	resolveCtx, cancel := withTimeout(ctx, opts.reg.timeout)
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

	c, info, err := connectBuild(ctx, cmd, root, build.Platforms(resolved.Plans))
	if err != nil {
		return err
	}
	defer c.Close()
	load, err := build.RouteExports(exports, info.Moby, func() (*build.DockerLoad, error) { return root.startDockerLoad(ctx) })
	if err != nil {
		return err
	}
	resp, err := build.Solve(ctx, c, build.Request{
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
		Credentials:  root.credentials(),
		Progress:     root.progress,
		ProgressOut:  cmd.ErrOrStderr(),
	})
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
// node that declares it. Platforms that several nodes would share are all
// built on the first node (one result to export; push merges per-node
// builds instead).
func connectBuild(ctx context.Context, cmd *cobra.Command, root *rootOptions, ps []string) (*client.Client, builder.Info, error) {
	o := root.builderOptions(false)
	parts, info, err := builder.ConnectPlatforms(ctx, o, ps)
	if err != nil {
		return nil, info, err
	}
	if len(parts) == 1 {
		return parts[0].Client, info, nil
	}
	builder.Close(parts)
	c, info, err := builder.Connect(ctx, o)
	if err == nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "building %s on the builder's first node: its nodes declare them separately (push builds each on its node)\n", strings.Join(ps, ","))
	}
	return c, info, err
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
		repo, err := cacheRepository(opts.cacheRepo)
		if err != nil {
			return lc, err
		}
		lc.Repo = &repo
	}
	dir, err := absDir(opts.cacheDir)
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
	if err := writeMetadataFile(opts.metadataFile, meta); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if root.format == "json" {
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
