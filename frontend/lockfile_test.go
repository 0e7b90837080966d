package frontend

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/internal/stack/stacktest"
)

// TestLockfilePinsOCIFeature checks that, from `docker buildx build`, a
// feature pinned in devcontainer-lock.json is built from the pinned
// manifest (fetched through the daemon by digest), not from where its tag
// points now.
func TestLockfilePinsOCIFeature(t *testing.T) {
	s := stacktest.Get(t)
	reg := resolvetest.StartRegistry(t)
	src := writeTree(t, map[string]string{
		"v1/devcontainer-feature.json": `{"id": "pinned", "version": "1.0.0"}`,
		"v1/install.sh":                "#!/bin/sh\nmkdir -p /opt\necho v1 > /opt/pinned\n",
		"v2/devcontainer-feature.json": `{"id": "pinned", "version": "1.0.1"}`,
		"v2/install.sh":                "#!/bin/sh\nmkdir -p /opt\necho v2 > /opt/pinned\n",
	})
	v1 := reg.PublishFeature(t, filepath.Join(src, "v1"), "features/pinned", nil, "1")
	key := reg.Host + "/features/pinned:1"
	lock := `{
  "features": {
    "` + key + `": {
      "version": "1.0.0",
      "resolved": "` + reg.Host + `/features/pinned@` + v1.ManifestDigest + `",
      "integrity": "` + v1.ManifestDigest + `"
    }
  }
}
`
	reg.PublishFeature(t, filepath.Join(src, "v2"), "features/pinned", nil, "1") // the tag moves on
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json":      `{"image": "` + s.Ref("busybox:latest") + `", "features": {"` + key + `": {}}}`,
		".devcontainer/devcontainer-lock.json": lock,
	})
	ref := s.Ref("frontend/locked:1")
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, nil); err != nil {
		t.Fatal(err)
	}
	_, files, _ := image(t, ref)
	if got := strings.TrimSpace(files["/opt/pinned"]); got != "v1" {
		t.Errorf("/opt/pinned = %q, want v1 (the locked version)", got)
	}
}
