package plugin

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/internal/dockerfile"
)

// readDockerfileImages lists the external images of a Dockerfile config's
// Dockerfile for a build on platform, each once; only those the build
// target needs when reachableOnly.
func readDockerfileImages(b *devcontainer.Build, platform string, reachableOnly bool) ([]dockerfile.Image, error) {
	data, err := os.ReadFile(filepath.FromSlash(b.Path))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", b.Path, err)
	}
	s, err := plan.ReadDockerfile(data, b, platform)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Path, err)
	}
	return s.ExternalImages(reachableOnly), nil
}

// defaultPlatform is the Plan's platform when none is given.
func defaultPlatform() string { return "linux/" + runtime.GOARCH }
