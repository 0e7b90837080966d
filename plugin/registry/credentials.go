package registry

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	dockerconfig "github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
)

// credentialsTTL is how long a looked-up credential is reused: as long as
// BuildKit's session keeps one (tokens of some credential helpers, such as
// Google Artifact Registry's, expire after five minutes).
const credentialsTTL = 4*time.Minute + 50*time.Second

// dockerHubKey is the docker config's key for Docker Hub.
const dockerHubKey = "https://index.docker.io/v1/"

// Credentials are the registry credentials of one docker CLI config file.
// A lookup reads, in the reference devcontainer CLI's order:
// DEVCONTAINERS_OCI_AUTH (host|user|token,…), the config file's auths and
// credential helpers (credsStore, credHelpers; DOCKER_AUTH_CONFIG as the
// docker CLI reads it), then GITHUB_TOKEN for ghcr.io. No credentials is
// anonymous access, not an error.
//
// Credentials is an authn.Keychain (go-containerregistry) and, through
// Lookup, the BuildKit session's auth source, so that every request of a
// command run uses one identity. It is safe for concurrent use.
type Credentials struct {
	file *configfile.ConfigFile

	mu    sync.Mutex
	cache map[string]cachedAuth
}

type cachedAuth struct {
	auth    types.AuthConfig
	created time.Time
}

// NewCredentials returns the credentials of file, the docker CLI's loaded
// config (the plugin passes dockerCli.ConfigFile()). A nil file holds no
// credentials: only the environment variables are read.
func NewCredentials(file *configfile.ConfigFile) *Credentials {
	return &Credentials{file: file, cache: map[string]cachedAuth{}}
}

// Lookup returns the credentials for a registry host[:port] as a registry
// client names it (docker.io, index.docker.io and registry-1.docker.io are
// Docker Hub); an empty AuthConfig when there are none.
func (c *Credentials) Lookup(host string) (types.AuthConfig, error) {
	host = canonicalHost(host)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.cache[host]; ok && time.Since(e.created) < credentialsTTL {
		return e.auth, nil
	}
	auth, err := c.lookup(host)
	if err != nil {
		return types.AuthConfig{}, err
	}
	c.cache[host] = cachedAuth{auth: auth, created: time.Now()}
	return auth, nil
}

func (c *Credentials) lookup(host string) (types.AuthConfig, error) {
	if a, ok := envAuth(host); ok {
		return a, nil
	}
	if c.file != nil {
		key := host
		if host == "docker.io" {
			key = dockerHubKey
		}
		a, err := c.file.GetAuthConfig(key)
		if err != nil {
			return types.AuthConfig{}, fmt.Errorf("registry credentials for %s from the docker config %s: %w (check its credsStore/credHelpers, or run docker login %s)", host, c.file.Filename, err, host)
		}
		if !empty(a) {
			return a, nil
		}
	}
	if tok := os.Getenv("GITHUB_TOKEN"); tok != "" && host == "ghcr.io" {
		if gh := os.Getenv("GITHUB_HOST"); gh == "" || gh == "github.com" {
			return types.AuthConfig{Username: "USERNAME", Password: tok}, nil
		}
	}
	return types.AuthConfig{}, nil
}

// Resolve implements authn.Keychain: the credentials for r's registry, or
// authn.Anonymous.
func (c *Credentials) Resolve(r authn.Resource) (authn.Authenticator, error) {
	a, err := c.Lookup(r.RegistryStr())
	if err != nil {
		return nil, err
	}
	if empty(a) {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(authn.AuthConfig{
		Username:      a.Username,
		Password:      a.Password,
		Auth:          a.Auth,
		IdentityToken: a.IdentityToken,
		RegistryToken: a.RegistryToken,
	}), nil
}

// envAuth reads DEVCONTAINERS_OCI_AUTH, a comma-separated list of
// host|user|token, as the reference devcontainer CLI does.
func envAuth(host string) (types.AuthConfig, bool) {
	for _, entry := range strings.Split(os.Getenv("DEVCONTAINERS_OCI_AUTH"), ",") {
		parts := strings.Split(strings.TrimSpace(entry), "|")
		if len(parts) == 3 && canonicalHost(parts[0]) == host {
			return types.AuthConfig{Username: parts[1], Password: parts[2]}, true
		}
	}
	return types.AuthConfig{}, false
}

// canonicalHost names Docker Hub one way (docker.io); other hosts are kept.
func canonicalHost(h string) string {
	switch h {
	case "docker.io", "index.docker.io", "registry-1.docker.io", dockerHubKey:
		return "docker.io"
	}
	return h
}

func empty(a types.AuthConfig) bool {
	return a.Username == "" && a.Password == "" && a.Auth == "" && a.IdentityToken == "" && a.RegistryToken == ""
}

// LoadCredentials returns the credentials of the docker CLI config
// directory dir ("" is DOCKER_CONFIG, else ~/.docker), read now; an
// unreadable or missing config.json holds no credentials.
func LoadCredentials(dir string) *Credentials {
	if dir == "" {
		dir = os.Getenv(dockerconfig.EnvOverrideConfigDir)
	}
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".docker")
	}
	f, err := dockerconfig.Load(dir)
	if err != nil {
		f = configfile.New(filepath.Join(dir, dockerconfig.ConfigFileName))
	}
	return NewCredentials(f)
}
