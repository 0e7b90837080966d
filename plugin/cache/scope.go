package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/devcache/devcache/devcontainer/plan"
)

// cacheScopeTagPrefix starts the tag of a layer-cache ref in a cache
// repository (never a key tag).
const cacheScopeTagPrefix = "cache-"

// Scope is the scope of the layer cache: the one given, else the config's
// path in the workspace (so the configs of one repository do not evict
// each other's layers, and an edited config still finds its own).
func Scope(given string, plans []*plan.Plan) string {
	if given != "" {
		return given
	}
	if len(plans) > 0 {
		return plans[0].ConfigFile
	}
	return "default"
}

// ScopeTag is the registry tag of the layer cache of scope: "cache-" and
// the scope with every character a tag cannot hold replaced by "-"; long
// scopes keep a hash so that two never share a tag.
func ScopeTag(scope string) string {
	var b strings.Builder
	for _, r := range scope {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-.")
	if s == "" {
		s = "default"
	}
	const max = 128 - len(cacheScopeTagPrefix)
	if len(s) > max || s != scope {
		h := sha256.Sum256([]byte(scope))
		suffix := "-" + hex.EncodeToString(h[:4])
		if len(s) > max-len(suffix) {
			s = s[:max-len(suffix)]
		}
		s += suffix
	}
	return cacheScopeTagPrefix + s
}

// KeyCacheTag is the registry tag of the layer cache of one key's build:
// "cache-dc-<key hex>". push writes it next to the scope's (which each
// push of the scope overwrites), so a build of an earlier config of the
// scope still finds all its layers. Like every "cache-" tag it is no key
// tag (IsKeyTag, KeyOfGenerationTag); prune deletes it with the key's last
// entry (ExpiredKeyCaches).
func KeyCacheTag(key string) string {
	return cacheScopeTagPrefix + TagOf(key)
}
