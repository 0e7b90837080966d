package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/internal/disktest"
)

// TestResolveCacheDiskFull: with the resolve cache on a full filesystem,
// plan still answers (the cache is a speed-up, written atomically) and
// leaves no partial file; once there is space, the next run fills the
// cache with verified content.
func TestResolveCacheDiskFull(t *testing.T) {
	isolate(t)
	full := disktest.Full(t, 1)
	t.Setenv("XDG_CACHE_HOME", full)
	reg := resolvetest.StartRegistry(t)
	reg.PushImage(t, "base/debian:12", resolvetest.ImageConfig{})
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "hello", "devcontainer-feature.json"), `{"id":"hello","version":"1.2.3"}`, 0o644)
	writeFile(t, filepath.Join(src, "hello", "install.sh"), "#!/bin/sh\n", 0o755)
	reg.PublishFeature(t, filepath.Join(src, "hello"), "f/hello", nil, "1")
	ws := imageWorkspace(t, `{"image": "`+reg.Host+`/base/debian:12", "features": {"`+reg.Host+`/f/hello:1": {}}}`)

	r := runDevcache(t, "plan", "--workspace-folder", ws, "--format", "json")
	if r.code != 0 || !json.Valid([]byte(r.stdout)) {
		t.Fatalf("plan on a full resolve cache: %s", r)
	}
	if n := checkCache(t, full); n != 0 {
		t.Errorf("%d cache files written on a full disk", n)
	}

	if err := os.Remove(disktest.Filler(full)); err != nil {
		t.Fatal(err)
	}
	if r := runDevcache(t, "plan", "--workspace-folder", ws); r.code != 0 {
		t.Fatalf("plan with space: %s", r)
	}
	if n := checkCache(t, full); n == 0 {
		t.Errorf("nothing cached once there was space")
	}
}

// checkCache fails the test on a partial file in the resolve cache under
// dir (a blob whose content does not match its name, a temporary file left
// behind) and returns how many cache files there are.
func checkCache(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == disktest.Filler(dir) {
			return err
		}
		n++
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		switch {
		case strings.Contains(filepath.ToSlash(p), "/blobs/sha256/"):
			sum := sha256.Sum256(b)
			if hex.EncodeToString(sum[:]) != filepath.Base(p) {
				t.Errorf("%s holds other content (%d bytes)", p, len(b))
			}
		case strings.HasSuffix(p, ".json"):
			if !json.Valid(b) {
				t.Errorf("%s is not valid JSON: %q", p, b)
			}
		default:
			t.Errorf("unexpected file %s (%d bytes) in the resolve cache", p, len(b))
		}
		return nil
	})
	return n
}
