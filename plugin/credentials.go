package plugin

import (
	"context"
	"os"
	"path/filepath"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/types"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"

	dcregistry "github.com/devcache/devcache/plugin/registry"
)

// credentials are the registry credentials of this command run, its one
// credential source: the docker CLI's config file, the one `docker --config
// DIR` or DOCKER_CONFIG selects, with its credential helpers (plus
// DEVCONTAINERS_OCI_AUTH and GITHUB_TOKEN, see dcregistry.Credentials).
// Resolution, probe, tags, referrers, prune, warm and the BuildKit session
// all use it.
func (o *rootOptions) credentials() *dcregistry.Credentials {
	if o.dockerCli != nil && o.dockerCli.ConfigFile() != nil {
		return dcregistry.NewCredentials(o.dockerCli.ConfigFile())
	}
	// Tests run the commands without a docker CLI: DOCKER_CONFIG or
	// ~/.docker, read now (config.Dir() keeps the first value it saw).
	dir := os.Getenv(config.EnvOverrideConfigDir)
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".docker")
	}
	f, err := config.Load(dir)
	if err != nil {
		f = configfile.New(filepath.Join(dir, config.ConfigFileName))
	}
	return dcregistry.NewCredentials(f)
}

// sessionAuth is the BuildKit session's registry auth, from creds. The
// daemon asks for credentials only when a registry challenges it.
func sessionAuth(creds *dcregistry.Credentials) session.Attachable {
	return authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: func(_ context.Context, host string, _ []string, _ authprovider.ExpireCachedAuthCheck) (types.AuthConfig, error) {
			return creds.Lookup(host)
		},
	})
}
