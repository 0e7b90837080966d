package plugin

import (
	"context"
	"fmt"

	"github.com/docker/buildx/builder"
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
// when given, otherwise the named or current buildx builder.
func (o *rootOptions) buildkitClient(ctx context.Context) (*client.Client, error) {
	if o.buildkitHost != "" {
		c, err := client.New(ctx, o.buildkitHost)
		if err != nil {
			return nil, errors.Wrapf(err, "connect to BuildKit at %s", o.buildkitHost)
		}
		return c, nil
	}
	var bopts []builder.Option
	if o.builder != "" {
		bopts = append(bopts, builder.WithName(o.builder))
	}
	b, err := builder.New(o.dockerCli, bopts...)
	if err != nil {
		return nil, errors.Wrap(err, "find the buildx builder (use --builder NAME or --buildkit-host ADDR)")
	}
	nodes, err := b.LoadNodes(ctx)
	if err != nil {
		return nil, errors.Wrapf(err, "load buildx builder %q", b.Name)
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
		c, err := n.Driver.Client(ctx)
		if err != nil {
			lastErr = err
			continue
		}
		return c, nil
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("it has no nodes")
	}
	return nil, errors.Wrapf(lastErr, "buildx builder %q is not usable", b.Name)
}
