package conformance

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/devcache/devcache/internal/stack"
)

// Reference is what the reference CLI needs on a stack to build and push
// with the stack's BuildKit (ENVIRONMENT.md, "The reference
// implementation"): a private Docker engine (the CLI runs `docker pull` and
// `docker inspect`), BuildKit's Dockerfile frontend in the stack's registry
// as docker/dockerfile:1.4 (found through the builder's docker.io mirror),
// and a DOCKER_CONFIG of its own whose current builder, for the engine's
// endpoint too, is the stack's remote builder. The differential suite and
// bench/build share it.
type Reference struct {
	// Env is what to add to a command's environment (after the caller's
	// own DOCKER_CONFIG, which it overrides) to run the reference CLI, or
	// docker against its engine: DOCKER_CONFIG, DOCKER_HOST and
	// BUILDX_BUILDER.
	Env []string
	// Localhost is the stack's registry as localhost:PORT: the name the
	// reference can parse in image references (it cannot parse
	// 127.0.0.1:PORT/repo).
	Localhost string

	eng          *engine
	dockerConfig string
}

// StartReference pushes docker/dockerfile:1.4, starts the engine (both
// concurrently) and selects the stack's builder. Stop it when done.
func StartReference(ctx context.Context, s *stack.Stack) (*Reference, error) {
	_, port, _ := net.SplitHostPort(s.Registry)
	r := &Reference{Localhost: "localhost:" + port}
	dc, err := os.MkdirTemp("", "dcconf-docker-")
	if err != nil {
		return nil, err
	}
	r.dockerConfig = dc
	if out, err := exec.Command("cp", "-a", s.DockerConfig+"/.", dc).CombinedOutput(); err != nil {
		r.Stop()
		return nil, fmt.Errorf("copying the stack's DOCKER_CONFIG: %v\n%s", err, out)
	}
	var wg sync.WaitGroup
	var feErr, engErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		feErr = pushDockerfileFrontend(ctx, s)
	}()
	r.eng, engErr = startEngine(ctx, []string{s.Registry, r.Localhost})
	wg.Wait()
	switch {
	case engErr != nil:
		r.Stop()
		return nil, fmt.Errorf("the reference CLI needs a Docker engine: %w", engErr)
	case feErr != nil:
		r.Stop()
		return nil, fmt.Errorf("docker/dockerfile:1.4 for the reference CLI: %w", feErr)
	}
	r.Env = []string{"DOCKER_CONFIG=" + dc, "DOCKER_HOST=" + r.eng.host, "BUILDX_BUILDER=" + s.Builder}
	// buildx keeps the current builder per engine endpoint: select the
	// stack's for DOCKER_HOST too.
	c := exec.CommandContext(ctx, "docker", "buildx", "use", s.Builder)
	c.Env = append(os.Environ(), append([]string{"PATH=" + s.BinDir + ":" + os.Getenv("PATH")}, r.Env...)...)
	if out, err := c.CombinedOutput(); err != nil {
		r.Stop()
		return nil, fmt.Errorf("docker buildx use %s (for the engine's endpoint): %v\n%s", s.Builder, err, out)
	}
	return r, nil
}

// Stop stops the engine and removes the DOCKER_CONFIG.
func (r *Reference) Stop() error {
	err := r.eng.stop()
	if r.dockerConfig != "" {
		os.RemoveAll(filepath.Clean(r.dockerConfig))
	}
	return err
}
