package plugin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPushMaxAgeLegacyEntry: an entry as an older devcache wrote it (the
// key tag alone, no generation tag) is a hit for push --max-age while it
// is fresh, nothing built (there is no builder here), and is not once it is
// older: push then sets out to rebuild it.
func TestPushMaxAgeLegacyEntry(t *testing.T) {
	ws, cache, tag := imageEntryFixture(t)
	t.Setenv("BUILDKIT_HOST", "unix://"+filepath.Join(t.TempDir(), "no-buildkitd.sock"))

	digest := pushEntry(t, cache, tag, time.Now().Add(-time.Hour), nil)
	meta := filepath.Join(t.TempDir(), "meta.json")
	r := runDevcache(t, "push", "--workspace-folder", ws, "--cache-repo", cache, "--max-age", "7d", "--metadata-file", meta)
	var res pushResult
	b, _ := os.ReadFile(meta)
	if err := json.Unmarshal(b, &res); err != nil || r.code != 0 || !res.Cached || res.Digest != digest {
		t.Fatalf("push --max-age 7d of a fresh legacy entry: %v %+v\n%s", err, res, r)
	}

	pushEntry(t, cache, tag, time.Now().Add(-8*24*time.Hour), nil)
	r = runDevcache(t, "push", "--workspace-folder", ws, "--cache-repo", cache, "--max-age", "7d")
	if r.code == 0 || !strings.Contains(r.stderr, "older than --max-age 168h0m0s; rebuilding it without the layer cache") {
		t.Errorf("push --max-age 7d of an 8-day-old entry: want a rebuild (which fails here, without a builder)\n%s", r)
	}
}
