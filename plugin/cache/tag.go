package cache

import (
	"encoding/hex"
	"strings"

	"github.com/devcache/devcache/devcontainer/plan"
)

// KeyTagPrefix starts every key tag in a cache repository.
const KeyTagPrefix = "dc-"

// keyPrefix starts every key (plan.KeyOf).
const keyPrefix = "sha256:"

// TagOf is the tag under which the image of key ("sha256:<hex>", as
// plan.KeyOf prints it) is stored in a cache repository: "dc-<hex>".
func TagOf(key string) string {
	return KeyTagPrefix + strings.TrimPrefix(key, keyPrefix)
}

// KeyOfTag is the key a key tag stores ("sha256:<hex>"); false when tag
// is not a key tag.
func KeyOfTag(tag string) (string, bool) {
	if !IsKeyTag(tag) {
		return "", false
	}
	return keyPrefix + strings.TrimPrefix(tag, KeyTagPrefix), true
}

// KeyTag is the tag of the image built from plans (one Plan per target
// platform): TagOf(plan.KeyOf(plans)).
func KeyTag(plans []*plan.Plan) string {
	return TagOf(plan.KeyOf(plans))
}

// IsKeyTag tells whether tag names a cache entry: "dc-" and 64 hex
// digits.
func IsKeyTag(tag string) bool {
	hexPart, ok := strings.CutPrefix(tag, KeyTagPrefix)
	if !ok || len(hexPart) != 64 {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil
}
