package release

import (
	"testing"

	"github.com/devcache/devcache/internal/stack/stacktest"
)

func TestMain(m *testing.M) { stacktest.Main(m) }
