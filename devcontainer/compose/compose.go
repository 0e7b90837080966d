package compose

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/errdefs"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/devcache/devcache/devcontainer"
	"go.yaml.in/yaml/v4"
)

// Options are the inputs of Load.
type Options struct {
	// Files are the Compose files (absolute, slash-separated), in merge
	// order. The first one's directory is the project directory, whose
	// .env is read, as the reference CLI 0.89.0 (through docker compose)
	// does.
	Files []string
	// Service is the service the dev container runs.
	Service string
	// Environ is the environment interpolation sees ("K=V" entries; the
	// client's own on the plugin route). It wins over .env, as in Compose.
	Environ []string
}

// Service is what of the named service reaches the image.
type Service struct {
	Name string
	// Image is the service's `image`; only meaningful when Build is nil
	// (with `build`, `image` merely names the result).
	Image string
	// Build is the service's `build`, resolved: Path and Context absolute
	// and slash-separated, Args and Options.Labels sorted by name.
	Build *devcontainer.Build
	// User is the service's `user`: the fallback _CONTAINER_USER.
	User string
}

// Load loads the Compose project and returns its service o.Service.
// Errors name the Compose file (the first one when Compose does not say
// which) and the service.
func Load(ctx context.Context, o Options) (*Service, error) {
	if len(o.Files) == 0 {
		return nil, errors.New("no Compose file given")
	}
	files := make([]string, len(o.Files))
	for i, f := range o.Files {
		files[i] = filepath.FromSlash(f)
	}
	if err := readable(o.Files); err != nil {
		return nil, err
	}
	projectDir := filepath.Dir(files[0])
	po, err := cli.NewProjectOptions(files,
		cli.WithWorkingDirectory(projectDir),
		cli.WithEnv(o.Environ),
		cli.WithEnvFiles(),
		cli.WithDotEnv,
		cli.WithProfiles([]string{"*"}),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", strings.Join(o.Files, ", "), err)
	}
	project, err := po.LoadProject(ctx)
	if err != nil {
		return nil, loadError(o.Files, err)
	}
	svc, err := project.GetService(o.Service)
	if err != nil {
		if errors.Is(err, errdefs.ErrNotFound) {
			return nil, fmt.Errorf("Service '%s' configured in devcontainer.json not found in Docker Compose configuration (%s).", o.Service, strings.Join(o.Files, ", "))
		}
		return nil, fmt.Errorf("%s: service %q: %w", strings.Join(o.Files, ", "), o.Service, err)
	}
	out := &Service{Name: o.Service, Image: svc.Image, User: svc.User}
	if svc.Build != nil {
		if out.Build, err = build(svc.Build); err != nil {
			return nil, fmt.Errorf("%s: service %q: build: %w", strings.Join(o.Files, ", "), o.Service, err)
		}
	} else if svc.Image == "" {
		return nil, fmt.Errorf("%s: service %q has neither `build` nor `image`; the dev container needs one of them", strings.Join(o.Files, ", "), o.Service)
	}
	return out, nil
}

// readable checks that each Compose file exists and is YAML, so the error
// names the one file at fault (Compose's loader names none for a syntax
// error).
func readable(files []string) error {
	for _, f := range files {
		data, err := os.ReadFile(filepath.FromSlash(f))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("Compose file %s not found", f)
			}
			return err
		}
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("%s: invalid YAML: %w", f, err)
		}
	}
	return nil
}

// loadError names the Compose files in a loader error that does not
// already name one.
func loadError(files []string, err error) error {
	msg := err.Error()
	for _, f := range files {
		if strings.Contains(msg, filepath.FromSlash(f)) || strings.Contains(msg, path.Base(f)) {
			return err
		}
	}
	return fmt.Errorf("%s: %w", strings.Join(files, ", "), err)
}

// build maps a service's `build` onto a devcontainer.Build, refusing what
// the Dockerfile sub-solve cannot (yet) honour rather than ignoring it.
func build(b *types.BuildConfig) (*devcontainer.Build, error) {
	if err := unsupported(b); err != nil {
		return nil, err
	}
	if strings.Contains(b.Context, "://") || strings.HasPrefix(b.Context, "git@") {
		return nil, fmt.Errorf("context %s: remote build contexts are not supported; use a local directory", b.Context)
	}
	ctxDir := filepath.ToSlash(b.Context)
	df := b.Dockerfile
	if df == "" {
		df = "Dockerfile"
	}
	out := &devcontainer.Build{Dockerfile: df, Path: resolve(ctxDir, filepath.ToSlash(df)), Context: ctxDir, Target: b.Target}
	for _, k := range sortedKeys(b.Args) {
		if v := b.Args[k]; v != nil {
			out.Args = append(out.Args, devcontainer.EnvVar{Name: k, Value: *v})
		}
	}
	for _, k := range sortedKeys(b.Labels) {
		out.Options.Labels = append(out.Options.Labels, devcontainer.EnvVar{Name: k, Value: b.Labels[k]})
	}
	out.Options.NoCache, out.Options.Pull = b.NoCache, b.Pull
	out.CacheFrom = b.CacheFrom
	return out, nil
}

// unsupported names the first `build` field that changes the image and
// that this version does not build.
func unsupported(b *types.BuildConfig) error {
	var field string
	switch {
	case b.DockerfileInline != "":
		field = "dockerfile_inline"
	case len(b.AdditionalContexts) > 0:
		field = "additional_contexts"
	case len(b.Secrets) > 0:
		field = "secrets"
	case len(b.SSH) > 0:
		field = "ssh"
	case len(b.ExtraHosts) > 0:
		field = "extra_hosts"
	case b.Network != "" && b.Network != "default":
		field = "network"
	case b.ShmSize != 0:
		field = "shm_size"
	case len(b.Ulimits) > 0:
		field = "ulimits"
	case len(b.Platforms) > 0:
		field = "platforms"
	case len(b.Entitlements) > 0 || b.Privileged:
		field = "entitlements/privileged"
	case b.Isolation != "":
		field = "isolation"
	default:
		return nil
	}
	return fmt.Errorf("%s is not supported by devcache yet; remove it from the service's build, or build this service with docker compose", field)
}

func resolve(dir, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(dir, p)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
