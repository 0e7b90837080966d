package compose

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/devcache/devcache/devcontainer"
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
	// EnvFile is the .env read instead of the project directory's, as
	// docker compose --env-file; "" for the project directory's.
	EnvFile string
	// ReadFile reads the Compose files, the files they extend and .env
	// by their slash path; default os.ReadFile.
	ReadFile func(path string) ([]byte, error)
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

// Loader loads a Compose project and returns its service o.Service.
type Loader func(ctx context.Context, o Options) (*Service, error)

// loader is the registered Loader (see Register).
var loader Loader

// Register makes l the Loader of Load. Package
// devcontainer/compose/composego registers compose-go's loader when it is
// linked; a binary that plans Compose configs imports it.
func Register(l Loader) { loader = l }

// ErrNoLoader is Load's error in a binary that links no Compose loader:
// the docker-devcache plugin binary, which hands such configs to the
// devcache binary.
var ErrNoLoader = errors.New("this binary does not load Docker Compose projects")

// Load loads the Compose project and returns its service o.Service.
// Errors name the Compose file (all of them when Compose does not say
// which) and the service.
func Load(ctx context.Context, o Options) (*Service, error) {
	if loader == nil {
		return nil, ErrNoLoader
	}
	return loader(ctx, o)
}

// Files are the Compose files of a config of the workspace ws (Options.
// Files) and the env file to read (Options.EnvFile): its dockerComposeFile;
// for an empty array, as the reference CLI 0.89.0 finds them,
// COMPOSE_FILE of the environment, else of the workspace's .env, split at
// ":" and resolved against ws; else the workspace's docker-compose.yml
// and, when it exists, docker-compose.override.yml. envFile is then the
// workspace's .env when it exists: the reference hands it to docker
// compose with --env-file. readFile reads by slash path (nil: os.ReadFile).
func Files(ws string, c *devcontainer.Compose, environ []string, readFile func(string) ([]byte, error)) (files []string, envFile string, err error) {
	if len(c.Files) > 0 {
		return c.Files, "", nil
	}
	if readFile == nil {
		readFile = func(p string) ([]byte, error) { return os.ReadFile(filepath.FromSlash(p)) }
	}
	dotEnv := path.Join(ws, ".env")
	data, err := readFile(dotEnv)
	switch {
	case err == nil:
		envFile = dotEnv
	case !errors.Is(err, fs.ErrNotExist):
		return nil, "", fmt.Errorf("%s: %w", dotEnv, err)
	}
	list := lookupEnv(environ, "COMPOSE_FILE")
	if list == "" && envFile != "" {
		if m := composeFileLine.FindSubmatch(data); m != nil {
			list = strings.TrimSpace(string(m[1]))
		}
	}
	if list != "" {
		for _, f := range strings.Split(list, ":") {
			files = append(files, Resolve(ws, filepath.ToSlash(f)))
		}
		return files, envFile, nil
	}
	files = []string{path.Join(ws, "docker-compose.yml")}
	if _, err := readFile(path.Join(ws, "docker-compose.override.yml")); err == nil {
		files = append(files, path.Join(ws, "docker-compose.override.yml"))
	}
	return files, envFile, nil
}

// composeFileLine is the reference's /^COMPOSE_FILE=(.+)$/m.
var composeFileLine = regexp.MustCompile(`(?m)^COMPOSE_FILE=(.+)$`)

// Resolve is p against dir unless p is absolute (slash paths).
func Resolve(dir, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(dir, p)
}

// lookupEnv is the value of name in environ ("K=V" entries, the last one
// winning, as compose-go's types.NewMapping reads it).
func lookupEnv(environ []string, name string) string {
	v := ""
	for _, kv := range environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}
