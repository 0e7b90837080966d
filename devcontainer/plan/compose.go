package plan

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/compose"
)

// composeBase loads a Compose config's service and plans its image: a
// `build` exactly as a Dockerfile config's build, an `image` pinned as an
// image config's. It returns the service's `user`, the fallback
// _CONTAINER_USER. Nothing else of the Compose project reaches the Plan.
func composeBase(ctx context.Context, ws string, cfg *devcontainer.Config, o Options, platform string) (*Base, string, string, error) {
	environ := o.Environ
	if environ == nil {
		environ = os.Environ()
	}
	files, envFile, err := compose.Files(ws, cfg.Compose, environ, o.ReadFile)
	if err != nil {
		return nil, "", "", cfg.Errorf("dockerComposeFile", "dockerComposeFile", "%v", err)
	}
	svc, err := compose.Load(ctx, compose.Options{Files: files, Service: cfg.Compose.Service, Environ: environ, EnvFile: envFile, ReadFile: o.ReadFile})
	if errors.Is(err, compose.ErrNoLoader) {
		return nil, "", "", err
	}
	if err != nil {
		return nil, "", "", cfg.Errorf("dockerComposeFile", "dockerComposeFile", "%v", err)
	}
	base := &Base{Kind: devcontainer.KindCompose}
	if svc.Build == nil {
		img, err := o.Resolver.ResolveImage(ctx, svc.Image, platform)
		if err != nil {
			return nil, "", "", cfg.Errorf("service", "service", "%s: image %s: %v", svc.Name, svc.Image, err)
		}
		base.Image = img
		return base, img.User, svc.User, nil
	}
	names := strings.Join(files, ", ")
	errf := func(field, format string, args ...any) error {
		args = append([]any{names, svc.Name, field}, args...)
		return cfg.Errorf("service", "service", "%s: service %q: build.%s: "+format, args...)
	}
	df, img, user, err := buildBase(ctx, ws, svc.Build, o, platform, errf)
	if err != nil {
		return nil, "", "", err
	}
	base.Dockerfile, base.Image = df, img
	return base, user, svc.User, nil
}
