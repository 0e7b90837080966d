package resolver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/compose"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/internal/dockerfile"
	"github.com/devcache/devcache/internal/policy"
)

// CheckDockerfileSources applies the source policy to every image a
// Dockerfile config's Dockerfile names, in any stage, as
// plan.ReadDockerfile reads it (BuildKit's parser; ARGs expanded as
// BuildKit does): each FROM that is not an earlier stage or scratch,
// COPY --from=<image> and RUN --mount=from=<image>. The frontend applies
// the same policy to what it actually resolves.
//
// A Compose service's `build` is checked the same way; its `image` is
// checked when it is resolved, like an image config's.
func CheckDockerfileSources(p *policy.Policy, ws string, cfg *devcontainer.Config) error {
	if p.Empty() || cfg == nil {
		return nil
	}
	b := cfg.Build
	if cfg.Kind == devcontainer.KindCompose && cfg.Compose != nil {
		b = composeBuild(ws, cfg.Compose)
	}
	if b == nil || (cfg.Kind != devcontainer.KindDockerfile && cfg.Kind != devcontainer.KindCompose) {
		return nil
	}
	imgs, err := readDockerfileImages(b, defaultPlatform(), false)
	if err != nil {
		return fmt.Errorf("source policy: %w", err)
	}
	for _, img := range imgs {
		if err := p.CheckImage(policy.KindDockerfile, img.Ref); err != nil {
			return fmt.Errorf("%s:%d: %s: %w", b.Path, img.Line, img.Use, err)
		}
	}
	return nil
}

// composeBuild is the Compose service's build, nil when it has none or the
// project does not load (the Plan reports that, with the config's context).
// ws is the workspace folder.
func composeBuild(ws string, c *devcontainer.Compose) *devcontainer.Build {
	files, envFile, err := compose.Files(filepath.ToSlash(ws), c, os.Environ(), nil)
	if err != nil {
		return nil
	}
	svc, err := compose.Load(context.Background(), compose.Options{Files: files, Service: c.Service, Environ: os.Environ(), EnvFile: envFile})
	if err != nil {
		return nil
	}
	return svc.Build
}

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
