package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/internal/stack"
	"github.com/devcache/devcache/internal/stack/stacktest"
	"github.com/devcache/devcache/plugin/cache"
)

// TestPushMultiPlatform: push --platform linux/amd64,linux/arm64 builds
// both (arm64 under QEMU: its RUN sees aarch64) into one index; probe finds
// it for the set and for each platform alone, and misses for a platform
// the base has but the push did not build. A second, empty daemon pushes
// the same index digest.
func TestPushMultiPlatform(t *testing.T) {
	s := stacktest.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	nonce := fmt.Sprint(time.Now().UnixNano())
	base := s.Ref("e2e/busybox-multi:latest")
	if _, err := stack.PushMultiPlatformBusybox(ctx, base, []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}); err != nil {
		t.Fatal(err)
	}
	ws := writeWorkspace(t, map[string]string{
		".devcontainer/devcontainer.json": `{"build": {"dockerfile": "Dockerfile"}, "remoteUser": "root"}`,
		".devcontainer/Dockerfile":        "FROM " + base + "\nRUN uname -m > /arch && echo " + nonce + " > /nonce\n",
	})
	repo := s.Ref("e2e/multi-" + nonce)
	set := "linux/amd64,linux/arm64"
	md, _ := pushWithMeta(t, ws, s.BuildkitAddr, "--cache-repo", repo, "--platform", set, "--progress", "quiet")
	if md.Cached || !md.Stored {
		t.Fatalf("push: %+v, want a stored build", md)
	}

	// One index, each platform's image built for it.
	idx, err := remote.Index(mustRef(t, repo+"@"+md.Digest))
	if err != nil {
		t.Fatalf("%s@%s is no index: %v", repo, md.Digest, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	arch := map[string]string{}
	for _, m := range im.Manifests {
		if m.Platform != nil && m.Platform.OS == "linux" {
			arch[m.Platform.Architecture] = imageFiles(t, repo+"@"+m.Digest.String())["/arch"]
		}
	}
	if arch["amd64"] != "x86_64\n" || arch["arm64"] != "aarch64\n" || len(arch) != 2 {
		t.Errorf("uname -m per platform = %q, want x86_64 and aarch64 only", arch)
	}

	// probe: the set, each platform alone, in any order; not arm/v7.
	hit := "DEVCACHE_CACHED_IMAGE=" + repo + "@" + md.Digest + "\n"
	for _, p := range []string{set, "linux/arm64,linux/amd64", "linux/arm64", "linux/amd64"} {
		if out, errOut, code := probeExit(t, ws, repo, nil, "--platform", p); code != 0 || out != hit {
			t.Errorf("probe --platform %s: exit %d, %q, want %q\n%s", p, code, out, hit, errOut)
		}
	}
	if out, errOut, code := probeExit(t, ws, repo, nil, "--platform", "linux/arm/v7"); code != 1 {
		t.Errorf("probe --platform linux/arm/v7 (not pushed): exit %d, want 1 (miss)\n%s%s", code, out, errOut)
	}
	// push for one platform of the set is a hit on the index too.
	if one, _ := pushWithMeta(t, ws, s.BuildkitAddr, "--cache-repo", repo, "--platform", "linux/arm64", "--progress", "quiet"); !one.Cached || one.Digest != md.Digest {
		t.Errorf("push --platform linux/arm64 after the set: %+v, want a hit on %s", one, md.Digest)
	}
	if !strings.HasPrefix(md.KeyTag, repo+":"+cache.KeyTagPrefix) {
		t.Errorf("key tag %s", md.KeyTag)
	}

	// Reproducible: an empty daemon pushes the same index.
	other := freshDaemon(t)
	md2, _ := pushWithMeta(t, ws, other.BuildkitAddr, "--cache-repo", repo+"-again", "--platform", set, "--progress", "quiet")
	if md2.Digest != md.Digest {
		t.Errorf("second daemon pushed %s, first %s: the multi-platform index is not reproducible", md2.Digest, md.Digest)
	}
}

func mustRef(t *testing.T, ref string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
