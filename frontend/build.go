package frontend

import (
	"context"
	"fmt"
	"strconv"
	"time"

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

	epoch, err := sourceDateEpoch(bc.BuildArgs)
	if err != nil {
		return nil, err
	}

	rb, err := bc.Build(ctx, func(ctx context.Context, platform *ocispecs.Platform, idx int) (*dockerui.BuildResult, error) {
		switch cfg.Kind {
		case devcontainer.KindImage:
			return buildImageConfig(ctx, bc, cfg, platform, epoch)
		default:
			return nil, fmt.Errorf("%s: %s configs are not supported by this frontend yet", file, cfg.Kind)
		}
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
