package frontend

import (
	"testing"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/internal/stack/stacktest"
)

// TestMain makes the stack's buildkitd trust resolvetest's https server,
// from which it downloads tarball features.
func TestMain(m *testing.M) {
	stacktest.MainTrusting(m, resolvetest.CertPEM())
}
