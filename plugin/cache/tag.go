package cache

import (
	"encoding/hex"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/devcache/devcache/devcontainer/plan"
)

// The tags of a cache repository (docs/cache-commands.md, "Tags"):
//
//	dc-<key hex>              the key's pointer: the entry probe reads (one HEAD)
//	dc-<key hex>-<gen>        one generation of the key's entry, never moved
//
// The pointer of a multi-platform entry's set key and the pointers of each
// platform's own key all name the entry's index. <gen> is the first
// GenerationLen hex digits of the generation's manifest digest, so a tag
// always names the same content and two pushes of one reproducible image
// write the same generation tag.

// KeyTagPrefix starts every key tag in a cache repository.
const KeyTagPrefix = "dc-"

// GenerationLen is the number of hex digits of a manifest digest that name
// a generation in its tag.
const GenerationLen = 16

// keyPrefix starts every key (plan.KeyOf).
const keyPrefix = "sha256:"

// TagOf is the pointer tag of key ("sha256:<hex>", as plan.KeyOf prints
// it) in a cache repository: "dc-<hex>".
func TagOf(key string) string {
	return KeyTagPrefix + strings.TrimPrefix(key, keyPrefix)
}

// GenerationTag is the immutable tag of the generation of key's entry whose
// manifest (or index) has digest: "dc-<key hex>-<first 16 hex of digest>".
func GenerationTag(key string, digest v1.Hash) string {
	return TagOf(key) + "-" + digest.Hex[:GenerationLen]
}

// KeyOfTag is the key a pointer tag stores ("sha256:<hex>"); false when
// tag is not a pointer tag.
func KeyOfTag(tag string) (string, bool) {
	if !IsKeyTag(tag) {
		return "", false
	}
	return keyPrefix + strings.TrimPrefix(tag, KeyTagPrefix), true
}

// KeyOfGenerationTag is the key of a generation tag and its pointer tag;
// false when tag is not a generation tag.
func KeyOfGenerationTag(tag string) (key, pointer string, ok bool) {
	// "dc-<hex>-<gen>": the pointer is everything before the last dash.
	i := strings.LastIndexByte(tag, '-')
	if i < 0 {
		return "", "", false
	}
	pointer, gen := tag[:i], tag[i+1:]
	if !IsKeyTag(pointer) || len(gen) != GenerationLen || !isHex(gen) {
		return "", "", false
	}
	key, _ = KeyOfTag(pointer)
	return key, pointer, true
}

// KeyOfEntryTag is the key of a pointer or generation tag; false for any
// other tag.
func KeyOfEntryTag(tag string) (string, bool) {
	if key, ok := KeyOfTag(tag); ok {
		return key, true
	}
	key, _, ok := KeyOfGenerationTag(tag)
	return key, ok
}

// KeyTag is the tag of the image built from plans (one Plan per target
// platform): TagOf(plan.KeyOf(plans)).
func KeyTag(plans []*plan.Plan) string {
	return TagOf(plan.KeyOf(plans))
}

// PlatformKeys are the keys of each platform's Plan alone, for an entry
// built from several platforms' plans (nil for one platform): what a probe
// for just that platform computes.
func PlatformKeys(plans []*plan.Plan) []string {
	if len(plans) < 2 {
		return nil
	}
	keys := make([]string, len(plans))
	for i, p := range plans {
		keys[i] = plan.KeyOf([]*plan.Plan{p})
	}
	return keys
}

// IsKeyTag tells whether tag is a key's pointer tag: "dc-" and 64 hex
// digits.
func IsKeyTag(tag string) bool {
	hexPart, ok := strings.CutPrefix(tag, KeyTagPrefix)
	return ok && len(hexPart) == 64 && isHex(hexPart)
}

// isHex tells whether s is lower-case hex digits.
func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}
