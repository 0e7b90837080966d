package cache

import (
	"strings"
	"testing"
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
