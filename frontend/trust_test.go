package frontend

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/internal/registrytest"
	"github.com/devcache/devcache/internal/stack/stacktest"
	"github.com/docker/cli/cli/config"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session/auth/authprovider"
)

// lockFor is a devcontainer-lock.json pinning the feature written as key
// to manifestDigest.
func lockFor(key, manifestDigest string) string {
	repo := key[:strings.LastIndex(key, ":")]
	return `{
  "features": {
    "` + key + `": {
      "version": "1.0.0",
      "resolved": "` + repo + `@` + manifestDigest + `",
      "integrity": "` + manifestDigest + `"
    }
  }
}
`
}

// trustFeature publishes a feature that writes /opt/trust to the stack's
// registry as repo:1.
func trustFeature(t *testing.T, registry, repo string) string {
	src := writeTree(t, map[string]string{
		"f/devcontainer-feature.json": `{"id": "trust", "version": "1.0.0"}`,
		"f/install.sh":                "#!/bin/sh\nmkdir -p /opt\necho through-the-daemon > /opt/trust\n",
	})
	return publishToStack(t, registry, filepath.Join(src, "f"), repo, "1").ManifestDigest
}

// TestPinnedFeatureFromDistribution builds a locked feature from the
// stack's registry, CNCF distribution, which serves an OCI manifest only to
// a client that accepts its media type: BuildKit's blob source does not
// (so the frontend reads the manifest itself), the layer comes through the
// daemon.
func TestPinnedFeatureFromDistribution(t *testing.T) {
	s := stacktest.Get(t)
	d := trustFeature(t, s.Registry, "trust/distribution")
	key := s.Registry + "/trust/distribution:1"
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json":      `{"image": "` + s.Ref("busybox:latest") + `", "features": {"` + key + `": {}}, "remoteUser": "root"}`,
		".devcontainer/devcontainer-lock.json": lockFor(key, d),
	})
	ref := s.Ref("frontend/trust:distribution")
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, nil); err != nil {
		t.Fatalf("locked feature on distribution: %v", err)
	}
	if _, files, _ := image(t, ref); strings.TrimSpace(files["/opt/trust"]) != "through-the-daemon" {
		t.Errorf("/opt/trust = %q", files["/opt/trust"])
	}
}

// TestMirroredFeatureNeedsTheFrontend references a feature on ghcr.io,
// which this machine cannot reach; the builder mirrors ghcr.io to the
// stack's registry. BuildKit v0.34 can fetch neither the tag nor (from
// distribution) the manifest for the frontend (see
// TestDaemonCannotResolveFeatureTag and gatewayResolver.manifest), so the
// frontend's own lookups fail, and the errors say what to do. When this
// test fails because the build succeeds, BuildKit resolves features
// through the mirror: turn it into a test of that.
func TestMirroredFeatureNeedsTheFrontend(t *testing.T) {
	s := stacktest.Get(t)
	d := trustFeature(t, s.Registry, "devcache-trust/features/mirrored")
	key := "ghcr.io/devcache-trust/features/mirrored:1"
	config := `{"image": "` + s.Ref("busybox:latest") + `", "features": {"` + key + `": {}}, "remoteUser": "root"}`

	ws := writeTree(t, map[string]string{".devcontainer/devcontainer.json": config})
	_, err := build(t, s, ws, ".devcontainer/devcontainer.json", s.Ref("frontend/trust:unpinned"), nil)
	if err == nil || !strings.Contains(err.Error(), "docker devcache lock") || !strings.Contains(err.Error(), "mirrors") {
		t.Errorf("unpinned ghcr.io feature: %v, want an error saying to pin it", err)
	}
	ws = writeTree(t, map[string]string{
		".devcontainer/devcontainer.json":      config,
		".devcontainer/devcontainer-lock.json": lockFor(key, d),
	})
	_, err = build(t, s, ws, ".devcontainer/devcontainer.json", s.Ref("frontend/trust:pinned"), nil)
	if err == nil || !strings.Contains(err.Error(), "through the builder") || !strings.Contains(err.Error(), "from the frontend") {
		t.Errorf("locked ghcr.io feature: %v, want an error naming both ways the manifest was looked for", err)
	}
}

// TestFeatureWithSessionCredentials builds a locked feature from a
// registry that needs credentials: the daemon fetches its manifest and
// layer with the session's (the client's docker config), as it does
// images.
func TestFeatureWithSessionCredentials(t *testing.T) {
	s := stacktest.Get(t)
	// A registry that serves manifests at the blob endpoint too (as
	// go-containerregistry's does), so that the daemon can fetch the
	// manifest by digest as well as the layer.
	reg := resolvetest.StartRegistry(t)
	proxy := registrytest.Start(t, reg.Host)
	d := trustFeature(t, reg.Host, "trust/private")
	key := proxy.Host + "/trust/private:1"
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json":      `{"image": "` + s.Ref("busybox:latest") + `", "features": {"` + key + `": {}}, "remoteUser": "root"}`,
		".devcontainer/devcontainer-lock.json": lockFor(key, d),
	})
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", s.Ref("frontend/trust:anonymous"), nil); err == nil {
		t.Fatal("built a feature from a registry that needs credentials without any")
	}
	cfg, err := config.Load(proxy.DockerConfig(t, registrytest.Reader, registrytest.ReaderPassword))
	if err != nil {
		t.Fatal(err)
	}
	withAuth := func(o *client.SolveOpt) {
		o.Session = append(o.Session, authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
			AuthConfigProvider: authprovider.LoadAuthConfig(cfg),
		}))
	}
	ref := s.Ref("frontend/trust:private")
	if _, err := buildWith(t, s, ws, ".devcontainer/devcontainer.json", ref, nil, withAuth); err != nil {
		t.Fatalf("build with the session's credentials: %v", err)
	}
	if _, files, _ := image(t, ref); strings.TrimSpace(files["/opt/trust"]) != "through-the-daemon" {
		t.Errorf("/opt/trust = %q", files["/opt/trust"])
	}
	var read bool
	for _, r := range proxy.Requests() {
		if strings.Contains(r, registrytest.Reader) && strings.Contains(r, "/trust/private/") {
			read = true
		}
	}
	if !read {
		t.Errorf("no authenticated request for the feature: %v", proxy.Requests())
	}
}
