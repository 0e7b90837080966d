package frontend

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"time"

	"github.com/containerd/platforms"
	devllb "github.com/devcache/devcache/llb"
	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/jsonc"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
)

// Build is the gateway BuildFunc: devcontainer.json in, dev container image out.
func Build(ctx context.Context, c client.Client) (*client.Result, error) {
	bc, err := dockerui.NewClient(c)
	if err != nil {
		return nil, err
	}
	if res, handled, err := bc.HandleSubrequest(ctx, dockerui.RequestHandler{}); err != nil || handled {
		return res, err
	}

	src, err := bc.ReadEntrypoint(ctx, "JSON")
	if err != nil {
		return nil, err
	}
	file := src.Filename
	cfg, err := devcontainer.Parse(file, src.Data, nil)
	if err != nil {
		return nil, err
	}
	bctx := newBuildCtx(bc)
	if cfg.Kind == devcontainer.KindDockerfile {
		// Paths in the config resolve against its directory, which only the
		// build context can tell: find the config in it and parse again
		// at that (virtual) location.
		rel, err := bctx.locateConfig(ctx, src.Data)
		if err != nil {
			return nil, err
		}
		if cfg, err = devcontainer.ParseAt(rel, path.Join(virtualRoot, rel), src.Data, nil); err != nil {
			return nil, err
		}
	}

	epoch, err := sourceDateEpoch(bc.BuildArgs)
	if err != nil {
		return nil, err
	}

	rb, err := bc.Build(ctx, func(ctx context.Context, platform *ocispecs.Platform, idx int) (*dockerui.BuildResult, error) {
		p := platforms.DefaultSpec()
		if platform != nil {
			p = *platform
		}
		var (
			st       llb.State
			img      *dockerspec.DockerOCIImage
			baseMeta *dockerspec.DockerOCIImage
		)
		switch cfg.Kind {
		case devcontainer.KindImage:
			st, img, err = imageBase(ctx, bc, cfg, p)
			baseMeta = img
		case devcontainer.KindDockerfile:
			st, img, baseMeta, err = dockerfileBase(ctx, bc, bctx, cfg, p)
		default:
			err = fmt.Errorf("%s: %s configs are not supported by this frontend yet", file, cfg.Kind)
		}
		if err != nil {
			return nil, err
		}
		if baseMeta == nil {
			baseMeta = img
		}
		out := img
		if label, ok := metadataLabel(baseMeta.Config.Labels, cfg.MetadataEntry()); ok {
			out = devllb.WithLabels(img, map[string]string{devcontainer.MetadataLabelKey: label},
				"LABEL "+devcontainer.MetadataLabelKey+"="+label, epoch)
		}
		ref, err := solve(ctx, bc, st, p)
		if err != nil {
			return nil, err
		}
		return &dockerui.BuildResult{Reference: ref, Image: out, BaseImage: img, Epoch: epoch}, nil
	})
	if err != nil {
		return nil, err
	}
	return rb.Finalize()
}

// sourceDateEpoch reads SOURCE_DATE_EPOCH from the build args, as buildx and
// buildctl pass it.
func sourceDateEpoch(args map[string]string) (*time.Time, error) {
	v, ok := args["SOURCE_DATE_EPOCH"]
	if !ok || v == "" {
		return nil, nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, errors.Errorf("invalid SOURCE_DATE_EPOCH %q: must be a number of seconds", v)
	}
	t := time.Unix(sec, 0).UTC()
	return &t, nil
}

// metadataLabel merges the base image's devcontainer.metadata entries with
// the entries this build adds.
func metadataLabel(baseLabels map[string]string, entries ...*jsonc.Object) (string, bool) {
	all := devcontainer.ParseMetadataLabel(baseLabels[devcontainer.MetadataLabelKey])
	all = append(all, entries...)
	return devcontainer.MetadataLabel(all)
}
