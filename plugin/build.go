package plugin

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"strings"

	"github.com/docker/buildx/build"
	"github.com/docker/buildx/util/buildflags"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"

	"github.com/devcache/devcache/devcontainer/plan"
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
	addRegistryFlags(f, &opts.reg)
	addWarmCacheFlag(f, &opts.reg)
	return cmd
}

func runBuild(cmd *cobra.Command, root *rootOptions, opts *buildOptions) error {
	ctx := cmd.Context()
	ws, err := root.resolveWorkspace()
	if err != nil {
		return err
	}
	exports, err := exportsFor(opts)
	if err != nil {
		return err
	}
	cacheFrom, err := buildflags.ParseCacheEntry(opts.cacheFrom)
	if err != nil {
		return errors.Wrap(err, "--cache-from")
	}
	cacheTo, err := buildflags.ParseCacheEntry(opts.cacheTo)
	if err != nil {
		return errors.Wrap(err, "--cache-to")
	}
	args := map[string]string{}
	if v, ok := os.LookupEnv("SOURCE_DATE_EPOCH"); ok {
		args["SOURCE_DATE_EPOCH"] = v
	}
	for _, a := range opts.buildArgs {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			v, ok = os.LookupEnv(k)
			if !ok {
				continue
			}
		}
		args[k] = v
	}

	reg, err := opts.reg.newRegistry(root.credentials())
	if err != nil {
		return err
	}
	resolveCtx, cancel := withTimeout(ctx, opts.reg.timeout)
	defer cancel()
	plans, err := root.resolvePlans(resolveCtx, ws, reg)
	if err != nil {
		return err
	}
	lc, err := opts.layerCache(plans)
	if err != nil {
		return err
	}
	localExports, err := lc.exports(false)
	if err != nil {
		return err
	}

	c, info, err := root.connect(ctx, false)
	if err != nil {
		return err
	}
	defer c.Close()

	var load *dockerLoad
	for i := range exports {
		e := &exports[i]
		if info.moby && (e.Type == client.ExporterImage || (e.Type == client.ExporterDocker && e.Output == nil)) {
			// The engine's own BuildKit stores into the engine (and
			// pushes from there), as buildx does.
			e.Type = "moby"
			continue
		}
		if e.Type != client.ExporterDocker || e.Output != nil || e.OutputDir != "" {
			continue
		}
		if load != nil {
			return errors.New("only one --output type=docker can load into the Docker engine")
		}
		if load, err = root.startDockerLoad(ctx); err != nil {
			return err
		}
		e.Output = load.output
	}

	resp, err := root.solve(ctx, c, solveRequest{
		ws:           ws,
		plans:        plans,
		allow:        reg.policy.Attr(),
		warm:         reg.warm,
		exports:      exports,
		cacheImports: append(lc.imports(), build.CreateCaches(cacheFrom)...),
		cacheExports: append(localExports, build.CreateCaches(cacheTo)...),
		buildArgs:    args,
		noCache:      opts.noCache,
	}, cmd.ErrOrStderr())
	if load != nil {
		if err != nil {
			load.abort(err)
		} else if err = load.wait(); err != nil {
			return err
		}
	}
	if err != nil {
		return err
	}
	return reportBuild(cmd, root, opts, resp, plans)
}

// layerCache is where build reads layers from: --cache-repo (read only)
// and --cache-dir (read and written).
func (opts *buildOptions) layerCache(plans []*plan.Plan) (layerCache, error) {
	lc := layerCache{scope: cacheScope(opts.cacheScope, plans)}
	if opts.cacheRepo != "" {
		repo, err := cacheRepository(opts.cacheRepo)
		if err != nil {
			return lc, err
		}
		lc.repo = &repo
	}
	dir, err := absDir(opts.cacheDir)
	lc.dir = dir
	return lc, err
}

// exportsFor turns -t/--push/--output into exporter entries, as buildx does.
func exportsFor(opts *buildOptions) ([]client.ExportEntry, error) {
	entries, err := buildflags.ParseExports(opts.outputs)
	if err != nil {
		return nil, errors.Wrap(err, "--output")
	}
	if opts.push {
		if len(entries) > 0 {
			return nil, errors.New("--push cannot be combined with --output; use --output type=registry")
		}
		entries = append(entries, &buildflags.ExportEntry{Type: "registry", Attrs: map[string]string{}})
	}
	if opts.load {
		for _, e := range entries {
			if e.Type == client.ExporterDocker {
				return nil, errors.New("--load cannot be combined with --output type=docker")
			}
		}
		entries = append(entries, &buildflags.ExportEntry{Type: client.ExporterDocker, Attrs: map[string]string{}})
	}
	if len(opts.tags) > 0 {
		if len(entries) == 0 {
			entries = append(entries, &buildflags.ExportEntry{Type: client.ExporterImage, Attrs: map[string]string{}})
		}
		for _, e := range entries {
			if e.Type == client.ExporterImage || e.Type == "registry" || e.Type == client.ExporterOCI || e.Type == client.ExporterDocker {
				if e.Attrs == nil {
					e.Attrs = map[string]string{}
				}
				if _, ok := e.Attrs["name"]; !ok {
					e.Attrs["name"] = strings.Join(opts.tags, ",")
				}
			}
		}
	}
	if opts.push && len(opts.tags) == 0 {
		return nil, errors.New("--push needs at least one --tag")
	}
	out, _, err := build.CreateExports(entries)
	return out, err
}

func reportBuild(cmd *cobra.Command, root *rootOptions, opts *buildOptions, resp *client.SolveResponse, plans []*plan.Plan) error {
	meta := map[string]string{}
	maps.Copy(meta, resp.ExporterResponse)
	digest := meta[exptypes.ExporterImageDigestKey]
	key := "sha256:" + keyTag(plans)[len(keyTagPrefix):]
	meta["devcache.key"] = key
	if opts.metadataFile != "" {
		b, err := json.MarshalIndent(meta, "", "  ")
		if err != nil {
			return err
		}
		if err := writeFileAtomic(opts.metadataFile, append(b, '\n')); err != nil {
			return errors.Wrap(err, "--metadata-file")
		}
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
