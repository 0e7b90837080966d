package builder

import (
	"strings"
	"testing"
)

func TestCannotExportCacheMessage(t *testing.T) {
	msg := ErrCannotExportCache("default", "docker").Error()
	for _, want := range []string{`"default"`, `"docker"`, "docker buildx create", "--buildkit-host"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}
