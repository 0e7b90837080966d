package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/internal/stack/stacktest"
	"github.com/devcache/devcache/plugin/cache"
	"github.com/devcache/devcache/plugin/registry"
)

// pushMeta is push's --metadata-file.
type pushMeta struct {
	Digest, Key, KeyTag string
	Cached, Stored      bool
}

// pushWithMeta runs push with args and returns its metadata and stderr.
func pushWithMeta(t *testing.T, ws, buildkitAddr string, args ...string) (pushMeta, string) {
	t.Helper()
	meta := filepath.Join(t.TempDir(), "meta.json")
	_, errOut := devcache(t, ws, buildkitAddr, nil, append([]string{"push", "--metadata-file", meta}, args...)...)
	var md pushMeta
	b, err := os.ReadFile(meta)
	if err == nil {
		err = json.Unmarshal(b, &md)
	}
	if err != nil {
		t.Fatalf("push metadata: %v", err)
	}
	return md, errOut
}

// tagDigest is the digest <repo>:<tag> names; zero when there is no such tag.
func tagDigest(t *testing.T, repo, tag string) v1.Hash {
	t.Helper()
	ref, err := name.NewTag(repo + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Head(ref)
	if registry.IsNotFound(err) {
		return v1.Hash{}
	}
	if err != nil {
		t.Fatal(err)
	}
	return d.Digest
}

// ageEntry makes repo@digest look pushed age ago: its build-info referrer
// (where push records the push time) is replaced by one that says so. This
// is what an entry pushed a week ago looks like, without waiting a week.
func ageEntry(t *testing.T, repo, digest string, age time.Duration) {
	t.Helper()
	ctx := context.Background()
	r, err := name.NewRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.New()
	if err != nil {
		t.Fatal(err)
	}
	d, err := v1.NewHash(digest)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(r.Digest(digest))
	if err != nil {
		t.Fatal(err)
	}
	if err := cache.DeleteReferrers(ctx, reg, r, d); err != nil {
		t.Fatal(err)
	}
	if err := cache.WriteBuildInfo(ctx, reg, r, desc, cache.BuildInfo{Created: time.Now().Add(-age), Duration: time.Second}); err != nil {
		t.Fatal(err)
	}
}

// TestPushMaxAgeRebuilds: the weekly rebuild. A fresh entry is a hit for
// push --max-age (nothing built); once it is older than --max-age, probe
// misses, push rebuilds it without the layer cache (the feature step runs
// again: its /stamp changes, so the digest does), keeps both generations
// under their own tags and moves the pointer, and probe then hits the new
// generation. prune keeps the pointer's generation and deletes the old one.
func TestPushMaxAgeRebuilds(t *testing.T) {
	s := stacktest.Get(t)
	nonce := fmt.Sprint(time.Now().UnixNano())
	ws := writeWorkspace(t, map[string]string{
		".devcontainer/devcontainer.json": `{
  "build": {"dockerfile": "Dockerfile"},
  "features": {"./stamp": {}},
  "remoteUser": "root"
}
`,
		".devcontainer/Dockerfile":                      "FROM " + s.Ref("busybox:latest") + "\nRUN echo " + nonce + " > /base\n",
		".devcontainer/stamp/devcontainer-feature.json": `{"id": "stamp", "version": "1.0.0", "name": "stamp"}`,
		".devcontainer/stamp/install.sh":                "#!/bin/sh\nset -e\ndate +%s%N > /stamp\n",
	})
	repo := s.Ref("e2e/fresh-" + nonce)
	push := func(args ...string) (pushMeta, string) {
		return pushWithMeta(t, ws, s.BuildkitAddr, append([]string{"--cache-repo", repo, "--max-age", "7d"}, args...)...)
	}

	first, _ := push("--progress", "quiet")
	if first.Cached || !first.Stored {
		t.Fatalf("first push: %+v, want a stored build", first)
	}
	pointer := cache.TagOf(first.Key)
	d1, _ := v1.NewHash(first.Digest)
	if got := tagDigest(t, repo, cache.GenerationTag(first.Key, d1)); got != d1 {
		t.Errorf("generation tag of the first push names %v, want %s", got, d1)
	}

	// Fresh: a hit, nothing built.
	again, errOut := push("--progress", "rawjson")
	if !again.Cached || again.Digest != first.Digest {
		t.Errorf("push of a fresh entry: %+v, want a hit on %s", again, first.Digest)
	}
	if runs := vertexRuns(t, errOut); len(runs) > 0 {
		t.Errorf("push of a fresh entry solved %v, want no build", runs)
	}

	// A week and a day later.
	ageEntry(t, repo, first.Digest, 8*24*time.Hour)
	if _, errOut, code := probeExit(t, ws, repo, nil, "--max-age", "7d"); code != 1 || !strings.Contains(errOut, "older than --max-age 168h") {
		t.Fatalf("probe of the stale entry: exit %d, want 1 (miss)\n%s", code, errOut)
	}
	if _, _, code := probeExit(t, ws, repo, nil); code != 0 {
		t.Errorf("probe without --max-age: exit %d, want a hit on the stale entry", code)
	}
	rebuilt, errOut := push("--progress", "plain")
	if rebuilt.Cached || !rebuilt.Stored || rebuilt.Digest == first.Digest || rebuilt.Key != first.Key {
		t.Fatalf("push of the stale entry: %+v, want a new generation of key %s (first %s)\n%s", rebuilt, first.Key, first.Digest, lastLines(errOut, 30))
	}
	if !strings.Contains(errOut, "rebuilding it without the layer cache") {
		t.Errorf("push did not say why it rebuilt:\n%s", lastLines(errOut, 30))
	}
	d2, _ := v1.NewHash(rebuilt.Digest)
	oldStamp := imageFiles(t, repo+"@"+first.Digest)["/stamp"]
	if newStamp := imageFiles(t, repo+"@"+rebuilt.Digest)["/stamp"]; newStamp == oldStamp || newStamp == "" {
		t.Errorf("/stamp %q after the rebuild, %q before: the feature step did not run again", newStamp, oldStamp)
	}
	out, errOut, code := probeExit(t, ws, repo, nil, "--max-age", "7d")
	if code != 0 || out != "DEVCACHE_CACHED_IMAGE="+repo+"@"+rebuilt.Digest+"\n" {
		t.Fatalf("probe after the rebuild: exit %d, %q, want a hit on %s\n%s", code, out, rebuilt.Digest, errOut)
	}
	for tag, want := range map[string]v1.Hash{
		pointer:                            d2,
		cache.GenerationTag(first.Key, d1): d1,
		cache.GenerationTag(first.Key, d2): d2,
	} {
		if got := tagDigest(t, repo, tag); got != want {
			t.Errorf("%s names %v, want %s", tag, got, want)
		}
	}

	// prune: the old generation is past --older-than; the pointer's is not.
	devcache(t, ws, s.BuildkitAddr, nil, "prune", "--cache-repo", repo, "--older-than", "7d", "--keep", "0")
	if got := tagDigest(t, repo, cache.GenerationTag(first.Key, d1)); got != (v1.Hash{}) {
		t.Errorf("after prune the old generation is still there (%s)", got)
	}
	for _, tag := range []string{pointer, cache.GenerationTag(first.Key, d2)} {
		if got := tagDigest(t, repo, tag); got != d2 {
			t.Errorf("after prune %s names %v, want %s", tag, got, d2)
		}
	}
}
