package builder

import (
	"context"
	"fmt"

	bx "github.com/docker/buildx/builder"
	"github.com/docker/buildx/driver"
	"github.com/docker/cli/cli/command"
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

// Options say which builder to connect to.
type Options struct {
	// Host is a BuildKit address (--buildkit-host, BUILDKIT_HOST); when
	// set, the buildx builders are not consulted.
	Host string
	// DockerCli finds the buildx builder; nil allows Host only.
	DockerCli command.Cli
	// Name is the buildx builder ("" for the current one).
	Name string
	// CacheExport refuses a builder that cannot export the layer cache
	// (the classic docker driver) up front, with what to do instead,
	// rather than failing late, after the build.
	CacheExport bool
}

// Info is what a command may need to know about the builder.
type Info struct {
	// Moby is the Docker engine's embedded BuildKit (buildx's docker
	// driver): its image exporter is "moby" and it loads into the engine.
	Moby bool
}

// Connect connects to the builder: o.Host when given, otherwise the named
// or current buildx builder (which may be the Docker engine's embedded
// BuildKit, through buildx's docker driver).
func Connect(ctx context.Context, o Options) (*client.Client, Info, error) {
	var info Info
	if o.Host != "" {
		c, err := client.New(ctx, o.Host)
		if err != nil {
			return nil, info, errors.Wrapf(err, "connect to BuildKit at %s", o.Host)
		}
		return c, info, nil
	}
	if o.DockerCli == nil {
		return nil, info, errors.New("no buildx builder without the docker CLI: pass --buildkit-host ADDR (or BUILDKIT_HOST)")
	}
	var bopts []bx.Option
	if o.Name != "" {
		bopts = append(bopts, bx.WithName(o.Name))
	}
	b, err := bx.New(o.DockerCli, bopts...)
	if err != nil {
		return nil, info, errors.Wrap(err, "find the buildx builder (use --builder NAME or --buildkit-host ADDR)")
	}
	return connectNode(ctx, b, o.CacheExport)
}

// connectNode connects to the first usable node of b.
func connectNode(ctx context.Context, b *bx.Builder, cacheExport bool) (*client.Client, Info, error) {
	var info Info
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
		info.Moby = n.Driver.IsMobyDriver()
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
	return ErrCannotExportCache(name, driverName)
}

// ErrCannotExportCache is the error of a builder that cannot export the
// layer cache, with what to do instead.
func ErrCannotExportCache(name, driverName string) error {
	return fmt.Errorf(`buildx builder %q (driver %q) cannot export the layer cache, which docker devcache push needs.
Use a builder that can, for example:
  docker buildx create --name devcache --driver docker-container --use
or enable the containerd image store in Docker Engine, or pass --builder NAME or --buildkit-host ADDR`, name, driverName)
}
