package plugin

import (
	"context"
	"fmt"

	"github.com/docker/buildx/builder"
	"github.com/docker/buildx/driver"
	"github.com/moby/buildkit/client"
	"github.com/pkg/errors"

	// buildx drivers a user's current builder may use.
	_ "github.com/docker/buildx/driver/docker"
	_ "github.com/docker/buildx/driver/docker-container"
	_ "github.com/docker/buildx/driver/remote"

	// Connection helpers for --buildkit-host URLs (docker-container://,
	// kube-pod://, ssh://).
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
	_ "github.com/moby/buildkit/client/connhelper/kubepod"
	_ "github.com/moby/buildkit/client/connhelper/ssh"
)

// buildkitClient connects to the builder: --buildkit-host (BUILDKIT_HOST)
// when given, otherwise the named or current buildx builder (which may be
// the Docker engine's embedded BuildKit, through buildx's docker driver).
func (o *rootOptions) buildkitClient(ctx context.Context) (*client.Client, error) {
	c, _, err := o.connect(ctx, false)
	return c, err
}

// builderInfo is what a command may need to know about the builder.
type builderInfo struct {
	// moby is the Docker engine's embedded BuildKit (buildx's docker
	// driver): its image exporter is "moby" and it loads into the engine.
	moby bool
}

// cacheExportClient is buildkitClient for commands that export the layer
// cache: a builder that cannot (the classic docker driver) is refused with
// what to do instead of failing late, after the build.
func (o *rootOptions) cacheExportClient(ctx context.Context) (*client.Client, error) {
	c, _, err := o.connect(ctx, true)
	return c, err
}

func (o *rootOptions) connect(ctx context.Context, cacheExport bool) (*client.Client, builderInfo, error) {
	var info builderInfo
	if o.buildkitHost != "" {
		c, err := client.New(ctx, o.buildkitHost)
		if err != nil {
			return nil, info, errors.Wrapf(err, "connect to BuildKit at %s", o.buildkitHost)
		}
		return c, info, nil
	}
	if o.dockerCli == nil {
		return nil, info, errors.New("no buildx builder without the docker CLI: pass --buildkit-host ADDR (or BUILDKIT_HOST)")
	}
	var bopts []builder.Option
	if o.builder != "" {
		bopts = append(bopts, builder.WithName(o.builder))
	}
	b, err := builder.New(o.dockerCli, bopts...)
	if err != nil {
		return nil, info, errors.Wrap(err, "find the buildx builder (use --builder NAME or --buildkit-host ADDR)")
	}
	nodes, err := b.LoadNodes(ctx)
	if err != nil {
		return nil, info, errors.Wrapf(err, "load buildx builder %q", b.Name)
	}
	var lastErr error
	for _, n := range nodes {
		if n.Err != nil {
			lastErr = n.Err
			continue
		}
		if n.Driver == nil {
			continue
		}
		if cacheExport {
			if err := canExportCache(ctx, b.Name, b.Driver, n.Driver); err != nil {
				return nil, info, err
			}
		}
		c, err := n.Driver.Client(ctx)
		if err != nil {
			lastErr = err
			continue
		}
		info.moby = n.Driver.IsMobyDriver()
		return c, info, nil
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("it has no nodes")
	}
	return nil, info, errors.Wrapf(lastErr, "buildx builder %q is not usable", b.Name)
}

// canExportCache checks the driver's "Cache export" feature.
func canExportCache(ctx context.Context, name, driverName string, d *driver.DriverHandle) error {
	features, err := d.Features(ctx)
	if err != nil {
		return errors.Wrapf(err, "query buildx builder %q", name)
	}
	if features[driver.CacheExport] {
		return nil
	}
	return errCannotExportCache(name, driverName)
}

func errCannotExportCache(name, driverName string) error {
	return fmt.Errorf(`buildx builder %q (driver %q) cannot export the layer cache, which docker devcache push needs.
Use a builder that can, for example:
  docker buildx create --name devcache --driver docker-container --use
or enable the containerd image store in Docker Engine, or pass --builder NAME or --buildkit-host ADDR`, name, driverName)
}
