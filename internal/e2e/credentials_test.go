package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devcache/devcache/internal/registrytest"
	"github.com/devcache/devcache/internal/stack/stacktest"
)

// TestDockerConfigIsTheIdentity: `docker --config DIR devcache push` and
// `… probe`, through the real docker CLI, against an auth proxy in front of
// the stack's registry that holds the base image and the cache. DIR has
// the writer's credentials; DOCKER_CONFIG and ~/.docker have the reader's.
// Every request of the plugin (resolution, key lookup, tags, referrers)
// and of buildkitd's session (base pull, layer cache, image push) carries
// DIR's identity, none the reader's; anonymous requests only meet a
// challenge. The same holds for DOCKER_CONFIG=DIR without --config.
func TestDockerConfigIsTheIdentity(t *testing.T) {
	s := stacktest.Get(t)
	proxy := registrytest.Start(t, s.Registry)
	// The other identity: the environment's DOCKER_CONFIG (with the stack's
	// buildx and builder) and ~/.docker.
	env, otherConfig := dockerEnv(t, s)
	writeAuth(t, otherConfig, proxy.Host, registrytest.Reader, registrytest.ReaderPassword)
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".docker"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeAuth(t, filepath.Join(home, ".docker"), proxy.Host, registrytest.Reader, registrytest.ReaderPassword)
	env = append(env, "HOME="+home, "XDG_CACHE_HOME="+t.TempDir())

	// DIR: the writer's credentials and the plugin.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "cli-plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(pluginBinary(t), filepath.Join(dir, "cli-plugins", "docker-devcache")); err != nil {
		t.Fatal(err)
	}
	writeAuth(t, dir, proxy.Host, registrytest.Writer, registrytest.WriterPassword)

	base := strings.Replace(s.Ref("busybox:latest"), s.Registry, proxy.Host, 1)
	ws := pushWorkspace(t, base, fmt.Sprint(time.Now().UnixNano()), "echo three > /three")
	repo := proxy.Host + "/e2e/identity"
	proxy.Requests()

	out := run(t, ws, env, "docker", "--config", dir, "devcache", "push", "--buildkit-host", s.BuildkitAddr,
		"--cache-repo", repo, "-t", proxy.Host+"/e2e/identity-tag:main", "--progress", "plain")
	m := refRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("push printed no digest reference:\n%s", out)
	}
	checkIdentity(t, "docker --config DIR devcache push", proxy.Requests(), true)

	want := "DEVCACHE_CACHED_IMAGE=" + m[1] + "\n"
	if got := run(t, ws, env, "docker", "--config", dir, "devcache", "probe", "--cache-repo", repo, "--max-age", "1h"); got != want {
		t.Errorf("docker --config DIR devcache probe = %q, want %q", got, want)
	}
	checkIdentity(t, "docker --config DIR devcache probe", proxy.Requests(), false)

	env = append(env, "DOCKER_CONFIG="+dir) // later entries win
	if got := run(t, ws, env, "docker", "devcache", "probe", "--cache-repo", repo, "--max-age", "1h"); got != want {
		t.Errorf("DOCKER_CONFIG=DIR docker devcache probe = %q, want %q", got, want)
	}
	checkIdentity(t, "DOCKER_CONFIG=DIR docker devcache probe", proxy.Requests(), false)
}

// checkIdentity fails the test unless every request carried the writer's
// credentials or was anonymous and challenged (401); writes says whether
// the command must have written.
func checkIdentity(t *testing.T, what string, reqs []string, writes bool) {
	t.Helper()
	wrote := false
	for _, q := range reqs {
		f := strings.Fields(q) // user method path status
		switch {
		case f[0] == registrytest.Writer:
			wrote = wrote || f[1] == "PUT"
		case f[0] == "-" && f[3] == "401":
		default:
			t.Errorf("%s: request %q, want the --config identity (%s)", what, q, registrytest.Writer)
		}
	}
	if len(reqs) == 0 || wrote != writes {
		t.Errorf("%s: %d requests, wrote %v, want writes %v: %q", what, len(reqs), wrote, writes, reqs)
	}
}
