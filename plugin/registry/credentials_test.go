package registry_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/docker/cli/cli/config"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/devcache/devcache/plugin/registry"
)

// writeDockerConfig writes config.json into a new directory and loads it as
// the docker CLI does.
func writeDockerConfig(t *testing.T, cfg map[string]any) *registry.Credentials {
	t.Helper()
	dir := t.TempDir()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return registry.NewCredentials(f)
}

func basicAuth(user, password string) map[string]string {
	return map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}
}

// userOf resolves host through kc and returns the user name ("" for
// anonymous).
func userOf(t *testing.T, kc authn.Keychain, host string) string {
	t.Helper()
	reg, err := name.NewRegistry(host)
	if err != nil {
		t.Fatal(err)
	}
	a, err := kc.Resolve(reg)
	if err != nil {
		t.Fatalf("resolve %s: %v", host, err)
	}
	if a == authn.Anonymous {
		return ""
	}
	cfg, err := a.Authorization()
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Username + ":" + cfg.Password
}

// TestCredentialsDockerConfig: the given config file's auths are the
// credentials, Docker Hub under every name the clients use (ggcr's
// index.docker.io, BuildKit's registry-1.docker.io, docker.io); a host the
// file does not name is anonymous; the environment's DOCKER_CONFIG and
// ~/.docker are not read.
func TestCredentialsDockerConfig(t *testing.T) {
	isolate(t)
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "config.json"), []byte(`{"auths":{"reg.example.com":{"auth":"`+base64.StdEncoding.EncodeToString([]byte("intruder:x"))+`"}}}`), 0o600)
	t.Setenv("DOCKER_CONFIG", other)

	c := writeDockerConfig(t, map[string]any{"auths": map[string]any{
		"reg.example.com":             basicAuth("alice", "a-secret"),
		"https://index.docker.io/v1/": basicAuth("hubuser", "hub-secret"),
	}})
	if got := userOf(t, c, "reg.example.com"); got != "alice:a-secret" {
		t.Errorf("reg.example.com: %q", got)
	}
	for _, h := range []string{"docker.io", "index.docker.io", "registry-1.docker.io"} {
		a, err := c.Lookup(h)
		if err != nil || a.Username != "hubuser" || a.Password != "hub-secret" {
			t.Errorf("Lookup(%s) = %+v, %v; want the Docker Hub entry", h, a, err)
		}
	}
	if got := userOf(t, c, "docker.io"); got != "hubuser:hub-secret" {
		t.Errorf("docker.io keychain: %q", got)
	}
	if got := userOf(t, c, "other.example.com"); got != "" {
		t.Errorf("other.example.com: %q, want anonymous", got)
	}
	if got := userOf(t, registry.NewCredentials(nil), "reg.example.com"); got != "" {
		t.Errorf("no config file: %q, want anonymous (DOCKER_CONFIG is not read)", got)
	}
}

// TestCredentialsHelper: a credHelpers entry runs the docker credential
// helper protocol (docker-credential-NAME get) for its host.
func TestCredentialsHelper(t *testing.T) {
	isolate(t)
	bin := t.TempDir()
	helper := "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread host\nprintf '{\"ServerURL\":\"%s\",\"Username\":\"helped\",\"Secret\":\"from-helper\"}' \"$host\"\n"
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-devcachetest"), []byte(helper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	c := writeDockerConfig(t, map[string]any{"credHelpers": map[string]string{"private.example.com": "devcachetest"}})
	if got := userOf(t, c, "private.example.com"); got != "helped:from-helper" {
		t.Errorf("helper credentials: %q", got)
	}
	if got := userOf(t, c, "public.example.com"); got != "" {
		t.Errorf("host without helper: %q, want anonymous", got)
	}
}

// TestCredentialsEnvironment: DEVCONTAINERS_OCI_AUTH comes before the
// config file, GITHUB_TOKEN after it and for ghcr.io only, as the
// reference devcontainer CLI reads them.
func TestCredentialsEnvironment(t *testing.T) {
	isolate(t)
	c := writeDockerConfig(t, map[string]any{"auths": map[string]any{
		"reg.example.com": basicAuth("alice", "a-secret"),
		"ghcr.io":         basicAuth("octo", "pat"),
	}})
	t.Setenv("DEVCONTAINERS_OCI_AUTH", "other.example.com|u|p, reg.example.com|envuser|envtoken")
	if got := userOf(t, c, "reg.example.com"); got != "envuser:envtoken" {
		t.Errorf("DEVCONTAINERS_OCI_AUTH: %q", got)
	}
	t.Setenv("GITHUB_TOKEN", "gh-token")
	if got := userOf(t, c, "ghcr.io"); got != "octo:pat" {
		t.Errorf("ghcr.io with a docker config entry: %q, want the config's", got)
	}
	bare := registry.NewCredentials(nil)
	if got := userOf(t, bare, "ghcr.io"); got != "USERNAME:gh-token" {
		t.Errorf("ghcr.io from GITHUB_TOKEN: %q", got)
	}
	if got := userOf(t, bare, "quay.io"); got != "" {
		t.Errorf("GITHUB_TOKEN sent to quay.io: %q", got)
	}
}

// isolate keeps the user's docker config and variables out of a test.
func isolate(t *testing.T) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("DOCKER_AUTH_CONFIG", "")
	t.Setenv("DEVCONTAINERS_OCI_AUTH", "")
	t.Setenv("GITHUB_TOKEN", "")
	t.Setenv("GITHUB_HOST", "")
}
