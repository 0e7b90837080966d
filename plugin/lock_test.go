package plugin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
)

// TestLockCommand: lock writes the reference's lockfile, --frozen passes on
// an up-to-date one and fails (writing nothing) on a missing or stale one,
// and a failed resolution leaves the file as it was.
func TestLockCommand(t *testing.T) {
	isolate(t)
	reg := resolvetest.StartRegistry(t)
	reg.PushImage(t, "base/debian:12", resolvetest.ImageConfig{})
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "hello", "devcontainer-feature.json"), `{"id":"hello","version":"1.2.3"}`, 0o644)
	writeFile(t, filepath.Join(src, "hello", "install.sh"), "#!/bin/sh\n", 0o755)
	pub := reg.PublishFeature(t, filepath.Join(src, "hello"), "f/hello", nil, "1")
	feature := reg.Host + "/f/hello:1"
	ws := imageWorkspace(t, `{"image": "`+reg.Host+`/base/debian:12", "features": {"`+feature+`": {}}}`)
	lockPath := filepath.Join(ws, ".devcontainer", "devcontainer-lock.json")

	if r := runDevcache(t, "lock", "--workspace-folder", ws, "--frozen"); r.code == 0 || !strings.Contains(r.stderr, "devcontainer-lock.json") {
		t.Fatalf("frozen without a lockfile: %s", r)
	}
	if _, err := os.Stat(lockPath); !os.IsNotExist(err) {
		t.Fatalf("frozen wrote a lockfile: %v", err)
	}
	if r := runDevcache(t, "lock", "--workspace-folder", ws); r.code != 0 || !strings.Contains(r.stdout, "wrote") {
		t.Fatalf("lock: %s", r)
	}
	got, err := os.ReadFile(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"features\": {\n    \"" + feature + "\": {\n      \"version\": \"1.2.3\",\n      \"resolved\": \"" + reg.Host + "/f/hello@" + pub.ManifestDigest + "\",\n      \"integrity\": \"" + pub.ManifestDigest + "\"\n    }\n  }\n}\n"
	if string(got) != want {
		t.Errorf("lockfile\n got %s\nwant %s", got, want)
	}
	if r := runDevcache(t, "lock", "--workspace-folder", ws, "--frozen"); r.code != 0 || !strings.Contains(r.stdout, "up to date") {
		t.Errorf("frozen, up to date: %s", r)
	}

	// A stale lockfile: frozen fails and leaves it alone.
	stale := strings.Replace(want, "1.2.3", "1.0.0", 1)
	writeFile(t, lockPath, stale, 0o644)
	if r := runDevcache(t, "lock", "--workspace-folder", ws, "--frozen"); r.code == 0 {
		t.Errorf("frozen, stale: %s", r)
	}
	if b, _ := os.ReadFile(lockPath); string(b) != stale {
		t.Errorf("frozen changed the file")
	}

	// A feature that cannot be resolved: an error naming it, file untouched,
	// no temporary file left.
	writeFile(t, filepath.Join(ws, ".devcontainer", "devcontainer.json"), `{"image": "`+reg.Host+`/base/debian:12", "features": {"`+feature+`": {}, "`+reg.Host+`/f/missing:1": {}}}`, 0o644)
	if r := runDevcache(t, "lock", "--workspace-folder", ws); r.code == 0 || !strings.Contains(r.stderr, "f/missing") {
		t.Errorf("unresolvable feature: %s", r)
	}
	if b, _ := os.ReadFile(lockPath); string(b) != stale {
		t.Errorf("a failed lock changed the file")
	}
	if ents, _ := os.ReadDir(filepath.Dir(lockPath)); len(ents) != 2 {
		t.Errorf("files left: %v", ents)
	}
}
