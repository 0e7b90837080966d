package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/devcache/devcache/internal/stack/stacktest"
	"github.com/devcache/devcache/plugin/cache"
	"github.com/devcache/devcache/plugin/registry"
)

// TestPruneDistribution: prune against the real registry (distribution
// 2.8, deletes enabled, no referrers API): --dry-run deletes nothing; a run
// deletes the expired entry by digest (distribution drops its tag with it)
// and its build-info referrer with the sha256-<hex> fallback tag, and keeps
// the newest entry of the scope and other tags.
func TestPruneDistribution(t *testing.T) {
	s := stacktest.Get(t)
	repo, err := name.NewRepository(s.Ref("e2e/prune-" + time.Now().Format("150405.000000")))
	if err != nil {
		t.Fatal(err)
	}
	entry := func(c byte, age time.Duration) (name.Tag, v1.Hash) {
		img, _ := random.Image(128, 1)
		img = mutate.Annotations(img, map[string]string{
			"dev.devcache.scope":               ".devcontainer/devcontainer.json",
			"org.opencontainers.image.created": time.Now().Add(-age).UTC().Format(time.RFC3339),
		}).(v1.Image)
		tag := repo.Tag("dc-" + strings.Repeat(string(c), 64))
		if err := remote.Write(tag, img); err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		return tag, d
	}
	young, _ := entry('a', time.Hour)
	old, oldDigest := entry('b', 100*time.Hour)
	other := repo.Tag("latest")
	img, _ := random.Image(64, 1)
	if err := remote.Write(other, img); err != nil {
		t.Fatal(err)
	}
	// A referrer of the old entry, as push's build info.
	desc, err := remote.Get(old)
	if err != nil {
		t.Fatal(err)
	}
	art := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	art = mutate.ConfigMediaType(art, "application/vnd.devcache.build-info.v1+json")
	art = mutate.Subject(art, desc.Descriptor).(v1.Image)
	artDigest, _ := art.Digest()
	if err := remote.Write(repo.Digest(artDigest.String()), art); err != nil {
		t.Fatal(err)
	}
	fallback := repo.Tag("sha256-" + oldDigest.Hex)
	exists := func(r name.Reference) bool {
		_, err := remote.Head(r)
		return err == nil
	}
	if !exists(fallback) {
		t.Fatalf("no referrers fallback tag %s: the registry has a referrers API after all?", fallback)
	}

	dir := t.TempDir()
	out, _ := devcache(t, dir, s.BuildkitAddr, nil, "prune", "--cache-repo", repo.String(), "--older-than", "24h", "--dry-run")
	if !strings.Contains(out, "would delete "+old.String()) || strings.Contains(out, young.String()) || !exists(old) {
		t.Fatalf("dry run:\n%s", out)
	}
	out, _ = devcache(t, dir, s.BuildkitAddr, nil, "prune", "--cache-repo", repo.String(), "--older-than", "24h")
	if !strings.Contains(out, "deleted "+old.String()) {
		t.Fatalf("prune:\n%s", out)
	}
	for r, want := range map[name.Reference]bool{old: false, young: true, other: true, fallback: false, repo.Digest(artDigest.String()): false} {
		if got := exists(r); got != want {
			t.Errorf("%s exists = %v, want %v", r, got, want)
		}
	}
	// --keep 0 with nothing old enough still keeps the young entry.
	devcache(t, dir, s.BuildkitAddr, nil, "prune", "--cache-repo", repo.String(), "--older-than", "24h", "--keep", "0")
	if !exists(young) {
		t.Error("young entry deleted")
	}
}

// TestPruneKeyCachesDistribution: two pushes of an edited config (one
// scope), then prune on the real registry (distribution 2.8: deleting a
// manifest drops every tag on it, and a tag cannot be deleted alone). The
// older key's layer cache cache-dc-<key> goes with its entry; with --keep
// 0 the newer key's entry goes but its layer cache, written by the same
// solve as the scope's cache-<scope> and so the same manifest, stays (its
// deletion would take cache-<scope> with it) and prune says so.
func TestPruneKeyCachesDistribution(t *testing.T) {
	s := stacktest.Get(t)
	nonce := fmt.Sprint(time.Now().UnixNano())
	repo := s.Ref("e2e/prune-keycache-" + nonce)
	push := func(third string) (keyCache, keyTag string) {
		ws := pushWorkspace(t, s.Ref("busybox:latest"), nonce, third)
		meta := filepath.Join(t.TempDir(), "meta.json")
		devcache(t, ws, s.BuildkitAddr, nil, "push", "--cache-repo", repo, "--progress", "quiet", "--metadata-file", meta)
		var md struct{ Key, KeyTag string }
		b, _ := os.ReadFile(meta)
		if err := json.Unmarshal(b, &md); err != nil || md.Key == "" {
			t.Fatalf("metadata file = %s (%v)", b, err)
		}
		return repo + ":" + cache.KeyCacheTag(md.Key), md.KeyTag
	}
	oldCache, oldEntry := push("echo three > /three")
	newCache, newEntry := push("echo four > /three")
	scopeCache := repo + ":" + cache.ScopeTag(".devcontainer/devcontainer.json")
	digest := func(ref string) string {
		r, _ := name.ParseReference(ref)
		desc, err := remote.Head(r)
		if registry.IsNotFound(err) {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		return desc.Digest.String()
	}
	if digest(oldCache) == "" || digest(newCache) != digest(scopeCache) {
		t.Fatalf("after two pushes: %s = %q, %s = %q, %s = %q; want the newer key's layer cache to be the scope's manifest",
			oldCache, digest(oldCache), newCache, digest(newCache), scopeCache, digest(scopeCache))
	}
	time.Sleep(1500 * time.Millisecond) // both entries older than --older-than 1s

	out, _ := devcache(t, t.TempDir(), s.BuildkitAddr, nil, "prune", "--cache-repo", repo, "--older-than", "1s")
	if !strings.Contains(out, "deleted "+oldEntry) || !strings.Contains(out, "deleted layer cache "+oldCache) || strings.Contains(out, newCache) {
		t.Fatalf("prune:\n%s", out)
	}
	if digest(oldCache) != "" || digest(newCache) == "" || digest(scopeCache) == "" {
		t.Fatalf("after prune: %s %q, %s %q, %s %q", oldCache, digest(oldCache), newCache, digest(newCache), scopeCache, digest(scopeCache))
	}

	out, _ = devcache(t, t.TempDir(), s.BuildkitAddr, nil, "prune", "--cache-repo", repo, "--older-than", "1s", "--keep", "0", "--format", "json")
	var rep struct {
		Deleted     []struct{ Ref string }
		LayerCaches []struct {
			Ref, SharedWith string
			Deleted         bool
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Deleted) == 0 || rep.Deleted[0].Ref != newEntry {
		t.Fatalf("prune --keep 0: %v\n%s", err, out)
	}
	if len(rep.LayerCaches) != 1 || rep.LayerCaches[0].Ref != newCache || rep.LayerCaches[0].SharedWith != scopeCache || rep.LayerCaches[0].Deleted {
		t.Errorf("layer caches = %+v, want %s kept for %s", rep.LayerCaches, newCache, scopeCache)
	}
	if digest(newEntry) != "" || digest(newCache) == "" || digest(scopeCache) == "" {
		t.Errorf("after prune --keep 0: %s %q, %s %q, %s %q", newEntry, digest(newEntry), newCache, digest(newCache), scopeCache, digest(scopeCache))
	}
}
