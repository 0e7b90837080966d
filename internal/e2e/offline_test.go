package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/internal/stack/stacktest"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestOfflineBuildAfterWarm warms a config's base image and OCI feature
// into a directory, stops the registry that served them, and builds and
// pushes the image (to another registry) with --base-image-cache-dir: no
// source is fetched from a registry.
func TestOfflineBuildAfterWarm(t *testing.T) {
	s := stacktest.Get(t)
	src := resolvetest.StartRegistry(t) // the registry that goes away
	base := src.Host + "/base/busybox:1"
	from, _ := name.ParseReference(s.Ref("busybox:latest"))
	to, _ := name.ParseReference(base)
	img, err := remote.Image(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(to, img); err != nil {
		t.Fatal(err)
	}
	feat := writeWorkspace(t, map[string]string{
		"hello/devcontainer-feature.json": `{"id": "hello", "version": "1.0.0", "options": {"greeting": {"type": "string", "default": "hi"}}}`,
		"hello/install.sh":                "#!/bin/sh\nset -e\nmkdir -p /opt\necho \"$GREETING\" > /opt/hello\n",
	})
	pub := src.PublishFeature(t, filepath.Join(feat, "hello"), "features/hello", nil, "1")
	ws := writeWorkspace(t, map[string]string{
		".devcontainer/devcontainer.json": `{"image": "` + base + `", "features": {"` + pub.Ref + `": {"greeting": "offline"}}}`,
	})
	dir := filepath.Join(t.TempDir(), "warm")
	devcache(t, ws, s.BuildkitAddr, nil, "warm", "--dir", dir)

	src.Close()
	ref := s.Ref("e2e/offline:1")
	out, errOut := devcache(t, ws, s.BuildkitAddr, nil, "build", "--base-image-cache-dir", dir, "--push", "-t", ref, "--progress", "plain")
	if !strings.Contains(out, s.Ref("e2e/offline")+"@sha256:") {
		t.Errorf("build printed %q", out)
	}
	if strings.Contains(errOut, src.Host) && strings.Contains(errOut, "connection refused") {
		t.Errorf("the build tried the stopped registry:\n%s", lastLines(errOut, 30))
	}
	if got := strings.TrimSpace(imageFiles(t, ref)["/opt/hello"]); got != "offline" {
		t.Errorf("/opt/hello = %q, want the warmed feature's output", got)
	}
}
