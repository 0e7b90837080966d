package composego

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/consts"
	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/errdefs"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/compose"
	"go.yaml.in/yaml/v4"
)

func init() { compose.Register(load) }

// Options are compose.Load's inputs.
type Options = compose.Options

// load is compose.Load with compose-go: the files read through
// o.ReadFile, `extends` files too.
func load(ctx context.Context, o Options) (*compose.Service, error) {
	if len(o.Files) == 0 {
		return nil, errors.New("no Compose file given")
	}
	if o.ReadFile == nil {
		o.ReadFile = func(p string) ([]byte, error) { return os.ReadFile(filepath.FromSlash(p)) }
	}
	details, err := configDetails(o)
	if err != nil {
		return nil, err
	}
	ext, err := newExtendsLoader(o, details.WorkingDir)
	if err != nil {
		return nil, err
	}
	defer ext.close()
	project, err := loader.LoadWithContext(ctx, *details, func(lo *loader.Options) {
		lo.SetProjectName(loader.NormalizeProjectName(path.Base(details.WorkingDir)), false)
		lo.ResourceLoaders = []loader.ResourceLoader{ext}
		lo.Profiles = []string{"*"} // the reference ignores profiles
		lo.ResolvePaths = true
		// env_file and label_file feed the container, not the image: not
		// read (on the // syntax= route they are not on a disk either).
		lo.SkipResolveEnvironment, lo.SkipResolveLabels = true, true
	})
	if err != nil {
		return nil, loadError(details, ext.unstage(err))
	}
	return service(project, details, o)
}

// service picks o.Service out of the loaded project.
func service(project *types.Project, details *types.ConfigDetails, o Options) (*compose.Service, error) {
	files := strings.Join(o.Files, ", ")
	svc, err := project.GetService(o.Service)
	if err != nil {
		if errors.Is(err, errdefs.ErrNotFound) {
			return nil, fmt.Errorf("Service '%s' configured in devcontainer.json not found in Docker Compose configuration (%s).", o.Service, files)
		}
		return nil, fmt.Errorf("%s: service %q: %w", files, o.Service, err)
	}
	out := &compose.Service{Name: o.Service, Image: svc.Image, User: svc.User}
	if svc.Build != nil {
		if out.Build, err = build(svc.Build); err != nil {
			return nil, fmt.Errorf("%s: service %q: build: %w", files, o.Service, err)
		}
	} else if svc.Image == "" {
		if at := serviceLine(details, o.Service); at != "" {
			files = at
		}
		return nil, fmt.Errorf("%s: service %q has neither `build` nor `image`; the dev container needs one of them", files, o.Service)
	}
	return out, nil
}

// configDetails reads the Compose files (each checked to be YAML, so an
// error names the one at fault) and the environment as docker compose
// does: the given environment, then the project directory's .env for what
// it does not set.
func configDetails(o Options) (*types.ConfigDetails, error) {
	d := &types.ConfigDetails{WorkingDir: path.Dir(o.Files[0]), Environment: types.NewMapping(o.Environ)}
	for _, f := range o.Files {
		data, err := o.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("Compose file %s not found", f)
		}
		if err != nil {
			return nil, err
		}
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("%s: invalid YAML: %w", f, err)
		}
		d.ConfigFiles = append(d.ConfigFiles, types.ConfigFile{Filename: f, Content: data})
	}
	if off, _ := strconv.ParseBool(d.Environment[consts.ComposeDisableDefaultEnvFile]); off {
		return d, nil
	}
	dotEnv := path.Join(d.WorkingDir, ".env")
	if o.EnvFile != "" {
		dotEnv = o.EnvFile
	}
	data, err := o.ReadFile(dotEnv)
	if errors.Is(err, fs.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return nil, err
	}
	envMap := map[string]string{}
	lookup := func(k string) (string, bool) {
		if v, ok := d.Environment[k]; ok {
			return v, true
		}
		v, ok := envMap[k]
		return v, ok
	}
	if err := dotenv.ParseWithFormat(bytes.NewReader(data), dotEnv, envMap, lookup, ""); err != nil {
		return nil, fmt.Errorf("%s: %w", dotEnv, err)
	}
	d.Environment.Merge(envMap)
	return d, nil
}

// loadError names the Compose files in a loader error that does not
// already name one: the file and line of the service it names, if any,
// else all of them.
func loadError(d *types.ConfigDetails, err error) error {
	msg := err.Error()
	var files []string
	for _, f := range d.ConfigFiles {
		if strings.Contains(msg, filepath.FromSlash(f.Filename)) || strings.Contains(msg, path.Base(f.Filename)) {
			return err
		}
		files = append(files, f.Filename)
	}
	if m := serviceInError.FindStringSubmatch(msg); m != nil {
		if at := serviceLine(d, m[1]); at != "" {
			return fmt.Errorf("%s: %w", at, err)
		}
	}
	return fmt.Errorf("%s: %w", strings.Join(files, ", "), err)
}

// serviceInError finds the service a compose-go error is about.
var serviceInError = regexp.MustCompile(`^service "([^"]+)"`)

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
	out := &devcontainer.Build{Dockerfile: df, Path: compose.Resolve(ctxDir, filepath.ToSlash(df)), Context: ctxDir, Target: b.Target}
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
	for _, k := range sortedKeys(b.AdditionalContexts) {
		c, err := namedContext(k, b.AdditionalContexts[k])
		if err != nil {
			return nil, err
		}
		out.Contexts = append(out.Contexts, c)
	}
	return out, nil
}

// namedContext maps one additional_contexts entry (its path already made
// absolute by the loader) onto what BuildKit can take without Compose: a
// local directory or a docker-image:// reference.
func namedContext(name, v string) (devcontainer.NamedContext, error) {
	if ref, ok := strings.CutPrefix(v, "docker-image://"); ok {
		if ref == "" {
			return devcontainer.NamedContext{}, fmt.Errorf("additional_contexts.%s: docker-image:// names no image", name)
		}
		return devcontainer.NamedContext{Name: name, Image: ref}, nil
	}
	if strings.HasPrefix(v, types.ServicePrefix) {
		return devcontainer.NamedContext{}, fmt.Errorf("additional_contexts.%s: %s: another service's image as a context is not supported; build that image first and name it with docker-image://", name, v)
	}
	if strings.Contains(v, "://") || strings.HasPrefix(v, "git@") || strings.HasPrefix(v, "github.com/") {
		return devcontainer.NamedContext{}, fmt.Errorf("additional_contexts.%s: %s: only local directories and docker-image:// references are supported", name, v)
	}
	return devcontainer.NamedContext{Name: name, Path: filepath.ToSlash(v)}, nil
}

// unsupported names the first `build` field that changes the image and
// that this version does not build.
func unsupported(b *types.BuildConfig) error {
	var field string
	switch {
	case b.DockerfileInline != "":
		field = "dockerfile_inline"
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// serviceLine is "file:line" of the last Compose file that defines the
// service name (services.<name>); "" when none does.
func serviceLine(d *types.ConfigDetails, name string) string {
	at := ""
	for _, f := range d.ConfigFiles {
		var doc yaml.Node
		if yaml.Unmarshal(f.Content, &doc) != nil || len(doc.Content) == 0 {
			continue
		}
		services := mappingValue(doc.Content[0], "services")
		if services == nil || services.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(services.Content); i += 2 {
			if services.Content[i].Value == name {
				at = fmt.Sprintf("%s:%d", f.Filename, services.Content[i].Line)
			}
		}
	}
	return at
}
