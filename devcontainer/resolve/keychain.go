package resolve

import (
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Keychain is the credential lookup of the reference CLI, in its order:
// DEVCONTAINERS_OCI_AUTH (host|user|token,…), the docker config (with its
// credential helpers), then GITHUB_TOKEN for ghcr.io, else anonymous.
func Keychain() authn.Keychain {
	return authn.NewMultiKeychain(envKeychain{}, authn.DefaultKeychain, githubKeychain{})
}

type envKeychain struct{}

func (envKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	for _, entry := range strings.Split(os.Getenv("DEVCONTAINERS_OCI_AUTH"), ",") {
		parts := strings.Split(entry, "|")
		if len(parts) == 3 && parts[0] == r.RegistryStr() {
			return authn.FromConfig(authn.AuthConfig{Username: parts[1], Password: parts[2]}), nil
		}
	}
	return authn.Anonymous, nil
}

type githubKeychain struct{}

func (githubKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	tok := os.Getenv("GITHUB_TOKEN")
	host := os.Getenv("GITHUB_HOST")
	if tok == "" || r.RegistryStr() != "ghcr.io" || (host != "" && host != "github.com") {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(authn.AuthConfig{Username: "USERNAME", Password: tok}), nil
}
