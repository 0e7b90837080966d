package cache

import (
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestSelectKeyCaches: prune picks the layer cache of a key whose entries
// all go — alone when no kept tag shares its manifest, else naming that
// tag — and never the layer cache of a key it keeps an entry of (its
// pointer, while an older generation goes), nor of a key without entries.
func TestSelectKeyCaches(t *testing.T) {
	key := func(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }
	digest := func(c byte) v1.Hash { return v1.Hash{Algorithm: "sha256", Hex: strings.Repeat(string(c), 64)} }
	now := time.Now()
	kept := []*Entry{
		{Tag: TagOf(key('a')), Digest: digest('1'), Created: now},
		{Tag: TagOf(key('f')), Digest: digest('2'), Created: now},
	}
	del := []*Entry{
		{Tag: TagOf(key('b')), Digest: digest('3')},
		{Tag: GenerationTag(key('c'), digest('4')), Digest: digest('4')},
		{Tag: TagOf(key('d')), Digest: digest('5')},
		{Tag: TagOf(key('e')), Digest: digest('6')},
		{Tag: GenerationTag(key('f'), digest('7')), Digest: digest('7')},
	}
	tags := map[string]v1.Hash{
		ScopeTag("s"):         digest('8'),
		KeyCacheTag(key('a')): digest('9'), // key a kept
		KeyCacheTag(key('b')): digest('8'), // same records as the scope's
		KeyCacheTag(key('c')): digest('c'), // its own: goes by digest
		KeyCacheTag(key('d')): digest('9'), // shares key a's
		KeyCacheTag(key('e')): digest('2'), // same digest as a kept entry
		KeyCacheTag(key('f')): digest('f'), // key f's pointer is kept
		KeyCacheTag(key('g')): digest('g'), // no entry of key g at all
		"latest":              digest('l'),
	}
	got := SelectKeyCaches(tags, del, kept)
	want := []KeyCache{
		{Tag: KeyCacheTag(key('b')), Digest: digest('8'), SharedWith: ScopeTag("s")},
		{Tag: KeyCacheTag(key('c')), Digest: digest('c')},
		{Tag: KeyCacheTag(key('d')), Digest: digest('9'), SharedWith: KeyCacheTag(key('a'))},
		{Tag: KeyCacheTag(key('e')), Digest: digest('2'), SharedWith: TagOf(key('f'))},
	}
	if len(got) != len(want) {
		t.Fatalf("SelectKeyCaches = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("layer cache %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestSelectKeyCachesSharedAmongDeleted: two deleted keys' layer caches
// with one manifest both go by digest (no kept tag holds it).
func TestSelectKeyCachesSharedAmongDeleted(t *testing.T) {
	k1, k2 := "sha256:"+strings.Repeat("1", 64), "sha256:"+strings.Repeat("2", 64)
	d := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("d", 64)}
	del := []*Entry{{Tag: TagOf(k1), Digest: d}, {Tag: TagOf(k2), Digest: d}}
	got := SelectKeyCaches(map[string]v1.Hash{KeyCacheTag(k1): d, KeyCacheTag(k2): d}, del, nil)
	if len(got) != 2 || got[0].SharedWith != "" || got[1].SharedWith != "" {
		t.Errorf("SelectKeyCaches = %+v, want both without SharedWith", got)
	}
}
