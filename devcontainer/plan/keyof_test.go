package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"testing"
)

// TestKeyOf: one Plan's key is its Key; several Plans' key is independent
// of their order, has the same printed form, and is the hash of their
// "<platform> <key>" lines that cache entries were always tagged with.
func TestKeyOf(t *testing.T) {
	amd := &Plan{FormatVersion: FormatVersion, Platform: "linux/amd64", ConfigFile: ".devcontainer/devcontainer.json"}
	arm := &Plan{FormatVersion: FormatVersion, Platform: "linux/arm64", ConfigFile: ".devcontainer/devcontainer.json"}
	if got := KeyOf([]*Plan{amd}); got != amd.Key() {
		t.Errorf("KeyOf(one) = %s, want its Key %s", got, amd.Key())
	}
	ab, ba := KeyOf([]*Plan{amd, arm}), KeyOf([]*Plan{arm, amd})
	if ab != ba {
		t.Errorf("platform order changes the key: %s vs %s", ab, ba)
	}
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(ab) {
		t.Errorf("multi-platform key %q is not sha256:<hex>", ab)
	}
	sum := sha256.Sum256([]byte("linux/amd64 " + amd.Key() + "\nlinux/arm64 " + arm.Key()))
	if want := "sha256:" + hex.EncodeToString(sum[:]); ab != want {
		t.Errorf("KeyOf(two) = %s, want %s (the hash existing entries are tagged with)", ab, want)
	}
	if KeyOf(nil) != "" {
		t.Error("KeyOf(nil) is not empty")
	}
}
