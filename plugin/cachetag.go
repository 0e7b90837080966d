package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/devcache/devcache/devcontainer/plan"
)

// keyTagPrefix starts every key tag in a cache repository.
const keyTagPrefix = "dc-"

// keyTag is the tag under which the image built from plans (one Plan per
// target platform) is stored in a cache repository: "dc-" and the 64 hex
// digits of the key. One platform: the Plan's key; several: sha256 over
// their keys in platform order.
func keyTag(plans []*plan.Plan) string {
	if len(plans) == 1 {
		return keyTagPrefix + strings.TrimPrefix(plans[0].Key(), "sha256:")
	}
	keys := make([]string, 0, len(plans))
	for _, p := range plans {
		keys = append(keys, p.Platform+" "+p.Key())
	}
	sort.Strings(keys)
	h := sha256.Sum256([]byte(strings.Join(keys, "\n")))
	return keyTagPrefix + hex.EncodeToString(h[:])
}

// isKeyTag tells whether tag names a cache entry.
func isKeyTag(tag string) bool {
	if !strings.HasPrefix(tag, keyTagPrefix) || len(tag) != len(keyTagPrefix)+64 {
		return false
	}
	_, err := hex.DecodeString(tag[len(keyTagPrefix):])
	return err == nil
}
