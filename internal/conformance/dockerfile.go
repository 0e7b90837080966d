package conformance

import (
	"context"

	"github.com/devcache/devcache/internal/frontendimage"
	"github.com/devcache/devcache/internal/stack"
)

// The reference CLI prepends `# syntax=docker/dockerfile:1.4`; the builder
// mirrors docker.io to the stack's registry.
const dockerfileRepo = "docker/dockerfile:1.4"

// pushDockerfileFrontend pushes BuildKit's Dockerfile frontend image as
// <registry>/docker/dockerfile:1.4.
func pushDockerfileFrontend(ctx context.Context, s *stack.Stack) error {
	_, err := frontendimage.PushDockerfileFrontend(ctx, s.Ref(dockerfileRepo))
	return err
}
