package plan

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/internal/dockerfile"
)

// buildErrorf makes an error about a field of a Dockerfile build
// ("dockerfile", "context"), in the terms of the config kind it came from.
type buildErrorf func(field, format string, args ...any) error

// dockerfileBase reads the Dockerfile of a Dockerfile config.
func dockerfileBase(ctx context.Context, ws string, cfg *devcontainer.Config, o Options, platform string) (*Dockerfile, *devcontainer.Image, string, error) {
	errf := func(field, format string, args ...any) error {
		return cfg.Errorf(topKeyOf(cfg), "build."+field, format, args...)
	}
	return buildBase(ctx, ws, cfg.Build, o, platform, errf)
}

// buildBase reads the Dockerfile of a build (of a Dockerfile config or a
// Compose service). The base image and the user are found by the
// reference's static analysis when it can be done without building.
func buildBase(ctx context.Context, ws string, b *devcontainer.Build, o Options, platform string, errf buildErrorf) (*Dockerfile, *devcontainer.Image, string, error) {
	r := o.Resolver
	data, err := o.readFile(b.Path)
	if err != nil {
		return nil, nil, "", errf("dockerfile", "Dockerfile (%s) not found.", b.Path)
	}
	df := &Dockerfile{Path: rel(ws, b.Path), Context: rel(ws, b.Context), Content: string(data), Args: b.Args, Target: b.Target, Options: b.Options}
	sum, err := ReadDockerfile(data, b, platform)
	if err != nil {
		return nil, nil, "", errf("dockerfile", "%s: %v", df.Path, err)
	}
	if o.ReadFile == nil {
		// Only the client sees the context as a directory; the frontend
		// is handed the client's Plan instead.
		if err := readsOnBuild(ctx, r, sum, platform); err != nil {
			return nil, nil, "", errf("dockerfile", "%s: %v", df.Path, err)
		}
		if df.ContextDigest, err = contextDigest(filepath.FromSlash(b.Context), filepath.FromSlash(b.Path), sum, ""); err != nil {
			return nil, nil, "", errf("context", "%v", err)
		}
	}
	if df.Contexts, err = namedContexts(ws, b, sum, o.ReadFile == nil); err != nil {
		return nil, nil, "", errf("additional_contexts", "%v", err)
	}
	if df.Images, err = dockerfileImages(ctx, r, sum, platform); err != nil {
		return nil, nil, "", errf("dockerfile", "%s: %v", df.Path, err)
	}
	if df.Syntax, err = syntaxImage(ctx, r, sum, b, platform); err != nil {
		return nil, nil, "", errf("dockerfile", "%s: %v", df.Path, err)
	}
	baseRef, ok := devcontainer.DockerfileBaseImage(string(data), b.Args, b.Target, platform)
	if c := contextNamed(b, baseRef); c != nil {
		baseRef = c.Image // a directory has no image config
	}
	if !ok || baseRef == "scratch" || baseRef == "" {
		return df, nil, "", nil
	}
	img, err := r.ResolveImage(ctx, baseRef, platform)
	if err != nil {
		return nil, nil, "", errf("dockerfile", "base image %s: %v", baseRef, err)
	}
	user := devcontainer.DockerfileUser(string(data), b.Args, b.Target, platform, img.Env)
	if user == "" {
		user = img.User
	}
	return df, img, user, nil
}

func topKeyOf(cfg *devcontainer.Config) string {
	if cfg.Raw.Has("dockerFile") {
		return "dockerFile"
	}
	return "build"
}

// namedContexts plans a build's named contexts: a directory's files the
// Dockerfile reads in its digest (only where it is a directory here: see
// buildBase), an image's reference (pinned with the Dockerfile's images).
func namedContexts(ws string, b *devcontainer.Build, sum *dockerfile.Summary, digest bool) ([]NamedContext, error) {
	var out []NamedContext
	for _, c := range b.Contexts {
		nc := NamedContext{Name: c.Name, Image: c.Image}
		if c.Image == "" {
			nc.Path = rel(ws, c.Path)
			if digest {
				d, err := contextDigest(filepath.FromSlash(c.Path), "", sum, c.Name)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", c.Name, err)
				}
				nc.ContextDigest = d
			}
		}
		out = append(out, nc)
	}
	return out, nil
}

// contextNamed is the named context of b a FROM's reference stands for,
// as BuildKit looks it up; nil when none.
func contextNamed(b *devcontainer.Build, ref string) *devcontainer.NamedContext {
	if ref == "" {
		return nil
	}
	name := dockerfile.ContextName(ref)
	for i, c := range b.Contexts {
		if c.Name == name {
			return &b.Contexts[i]
		}
	}
	return nil
}
