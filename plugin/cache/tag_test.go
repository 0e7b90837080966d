package cache

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestTagOfKey: a key and its tag convert both ways; other tags are no key.
func TestTagOfKey(t *testing.T) {
	key := "sha256:" + strings.Repeat("ab", 32)
	tag := TagOf(key)
	if tag != "dc-"+strings.Repeat("ab", 32) {
		t.Errorf("TagOf(%s) = %s", key, tag)
	}
	if k, ok := KeyOfTag(tag); !ok || k != key {
		t.Errorf("KeyOfTag(%s) = %s, %v", tag, k, ok)
	}
	for _, bad := range []string{"latest", "dc-abc", "cache-x", "dc-" + strings.Repeat("zz", 32)} {
		if k, ok := KeyOfTag(bad); ok {
			t.Errorf("KeyOfTag(%q) = %s, want no key", bad, k)
		}
	}
}

// TestGenerationTag: a generation tag names its key's pointer and is no
// pointer itself; pointers and other tags are no generation.
func TestGenerationTag(t *testing.T) {
	key := "sha256:" + strings.Repeat("ab", 32)
	digest := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0123456789abcdef", 4)}
	gen := GenerationTag(key, digest)
	if want := TagOf(key) + "-0123456789abcdef"; gen != want {
		t.Errorf("GenerationTag = %s, want %s", gen, want)
	}
	if _, err := name.NewTag("r.example/x:" + gen); err != nil {
		t.Error(err)
	}
	if k, ptr, ok := KeyOfGenerationTag(gen); !ok || k != key || ptr != TagOf(key) {
		t.Errorf("KeyOfGenerationTag(%s) = %s, %s, %v", gen, k, ptr, ok)
	}
	if IsKeyTag(gen) {
		t.Errorf("IsKeyTag(%s): a generation is not a pointer", gen)
	}
	for _, bad := range []string{TagOf(key), TagOf(key) + "-0123", TagOf(key) + "-0123456789ABCDEF", "dc-ab-0123456789abcdef", "latest"} {
		if _, _, ok := KeyOfGenerationTag(bad); ok {
			t.Errorf("KeyOfGenerationTag(%q) ok, want no generation", bad)
		}
	}
}

// TestSelectExpiredGenerations: a pointer and the generation it names are
// one image for --keep and go together; an older generation of the same key
// is pruned once expired.
func TestSelectExpiredGenerations(t *testing.T) {
	now := time.Now()
	key := "sha256:" + strings.Repeat("ab", 32)
	cur := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("1", 64)}
	old := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("2", 64)}
	other := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("3", 64)}
	entries := []*Entry{ // newest first, as ListEntries returns them
		{Tag: TagOf(key), Digest: cur, Created: now.Add(-40 * 24 * time.Hour), Scope: "s"},
		{Tag: GenerationTag(key, cur), Digest: cur, Created: now.Add(-40 * 24 * time.Hour), Scope: "s"},
		{Tag: "dc-" + strings.Repeat("cd", 32), Digest: other, Created: now.Add(-50 * 24 * time.Hour), Scope: "s"},
		{Tag: GenerationTag(key, old), Digest: old, Created: now.Add(-60 * 24 * time.Hour), Scope: "s"},
	}
	del, kept := SelectExpired(entries, now, 30*24*time.Hour, 2)
	tags := func(es []*Entry) (out []string) {
		for _, e := range es {
			out = append(out, e.Tag)
		}
		return out
	}
	if got, want := tags(kept), tags(entries[:3]); !slices.Equal(got, want) {
		t.Errorf("kept %v, want %v (pointer, its generation, the second image)", got, want)
	}
	if got, want := tags(del), tags(entries[3:]); !slices.Equal(got, want) {
		t.Errorf("deleted %v, want the old generation %v", got, want)
	}
}

// TestKeyCacheTag: a key's layer-cache tag is a "cache-" tag like the
// scope's, never read as a pointer or generation tag (so probe and prune
// never read it as an entry).
func TestKeyCacheTag(t *testing.T) {
	key := "sha256:" + strings.Repeat("ab", 32)
	tag := KeyCacheTag(key)
	if want := "cache-dc-" + strings.Repeat("ab", 32); tag != want {
		t.Fatalf("KeyCacheTag = %q, want %q", tag, want)
	}
	if IsKeyTag(tag) {
		t.Errorf("IsKeyTag(%q) = true", tag)
	}
	if _, ok := KeyOfTag(tag); ok {
		t.Errorf("KeyOfTag(%q) ok", tag)
	}
	if _, _, ok := KeyOfGenerationTag(tag); ok {
		t.Errorf("KeyOfGenerationTag(%q) ok", tag)
	}
	if !strings.HasPrefix(tag, cacheScopeTagPrefix) || tag == ScopeTag(key) {
		t.Errorf("%q is not a cache- tag of its own", tag)
	}
}
