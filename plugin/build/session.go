package build

import (
	"context"

	"github.com/docker/cli/cli/config/types"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"

	"github.com/devcache/devcache/plugin/registry"
)

// sessionAuth is the BuildKit session's registry auth, from creds (nil:
// anonymous). The daemon asks for credentials only when a registry
// challenges it.
func sessionAuth(creds *registry.Credentials) session.Attachable {
	if creds == nil {
		creds = registry.NewCredentials(nil)
	}
	return authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: func(_ context.Context, host string, _ []string, _ authprovider.ExpireCachedAuthCheck) (types.AuthConfig, error) {
			return creds.Lookup(host)
		},
	})
}
