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
)

type buildOptions struct {
	tags         []string
	push         bool
	outputs      []string
	noCache      bool
	cacheFrom    []string
	cacheTo      []string
	buildArgs    []string
	metadataFile string
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
	f.StringArrayVarP(&opts.outputs, "output", "o", nil, `Output destination, as in buildx (e.g. "type=oci,dest=out.tar")`)
	f.BoolVar(&opts.noCache, "no-cache", false, "Do not use cache when building")
	f.StringArrayVar(&opts.cacheFrom, "cache-from", nil, `External cache sources (e.g. "type=registry,ref=reg/repo:cache")`)
	f.StringArrayVar(&opts.cacheTo, "cache-to", nil, `Cache export destinations (e.g. "type=registry,ref=reg/repo:cache,mode=max")`)
	f.StringArrayVar(&opts.buildArgs, "build-arg", nil, "Build-time variables (e.g. SOURCE_DATE_EPOCH=0)")
	f.StringVar(&opts.metadataFile, "metadata-file", "", "Write the build result metadata to this file")
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

	c, err := root.buildkitClient(ctx)
	if err != nil {
		return err
	}
	defer c.Close()

	resp, err := root.solve(ctx, c, solveRequest{
		ws:           ws,
		exports:      exports,
		cacheImports: build.CreateCaches(cacheFrom),
		cacheExports: build.CreateCaches(cacheTo),
		buildArgs:    args,
		noCache:      opts.noCache,
	}, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	return reportBuild(cmd, root, opts, resp)
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

func reportBuild(cmd *cobra.Command, root *rootOptions, opts *buildOptions, resp *client.SolveResponse) error {
	meta := map[string]string{}
	maps.Copy(meta, resp.ExporterResponse)
	digest := meta[exptypes.ExporterImageDigestKey]
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
