package frontend

import (
	"testing"

	"github.com/devcache/devcache/internal/stack/stacktest"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestMultiPlatform builds one config for two platforms (as buildx
// --platform linux/amd64,linux/arm64 asks) and checks the result is an
// index with one complete image per platform. The arm64 base is the amd64
// busybox relabelled, so its feature step runs natively on this machine.
func TestMultiPlatform(t *testing.T) {
	s := stacktest.Get(t)
	src, _ := name.ParseReference(s.Ref("busybox:latest"))
	amd64, err := remote.Image(src)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := amd64.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Architecture = "arm64"
	arm64, err := mutate.ConfigFile(amd64, cf)
	if err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd64, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm64, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	baseRef := s.Ref("frontend/multiarch-base:1")
	dst, _ := name.ParseReference(baseRef)
	if err := remote.WriteIndex(dst, idx); err != nil {
		t.Fatal(err)
	}

	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json":               `{"image": "` + baseRef + `", "features": {"./hello": {}}}`,
		".devcontainer/hello/devcontainer-feature.json": helloFeature,
		".devcontainer/hello/install.sh":                helloInstall,
	})
	ref := s.Ref("frontend/multiarch:1")
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, map[string]string{"platform": "linux/amd64,linux/arm64"}); err != nil {
		t.Fatal(err)
	}
	r, _ := name.ParseReference(ref)
	out, err := remote.Index(r)
	if err != nil {
		t.Fatalf("result is not an index: %v", err)
	}
	m, err := out.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, d := range m.Manifests {
		if d.Platform == nil || d.Platform.OS == "unknown" {
			continue // attestations
		}
		img, err := out.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		c, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		seen[c.Architecture] = true
		if c.Config.Labels["devcontainer.metadata"] == "" || c.Config.User != "root" {
			t.Errorf("%s: label %q user %q", c.Architecture, c.Config.Labels["devcontainer.metadata"], c.Config.User)
		}
		if got, want := len(c.RootFS.DiffIDs), 1+2+1; got != want {
			t.Errorf("%s: %d layers, want %d", c.Architecture, got, want)
		}
	}
	if !seen["amd64"] || !seen["arm64"] {
		t.Errorf("platforms in the index: %v, want amd64 and arm64", seen)
	}
}
