package resolver

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/plugin/registry"
)

// TestPlansResolveConcurrently: an unpinned config's base image and OCI
// features are looked up at the same time (the registry serves more than
// one request at once while every manifest request takes a round trip's
// time), each repository is authenticated once, and the Plans are the ones
// a sequential resolution computes.
func TestPlansResolveConcurrently(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	reg := resolvetest.StartRegistry(t)
	reg.PushImage(t, "base/img:1", resolvetest.ImageConfig{User: "root"})
	src := t.TempDir()
	features := ""
	for _, id := range []string{"a", "b", "c"} {
		dir := filepath.Join(src, id)
		write(t, filepath.Join(dir, "devcontainer-feature.json"), `{"id":"`+id+`","version":"1.0.0","options":{"v":{"type":"string","default":"x"}}}`)
		write(t, filepath.Join(dir, "install.sh"), "#!/bin/sh\necho "+id+"\n")
		reg.PublishFeature(t, dir, "f/"+id, nil, "1")
		features += `, "` + reg.Host + `/f/` + id + `:1": {"v": "` + id + `"}`
	}
	wsDir := t.TempDir()
	cfg := filepath.Join(wsDir, ".devcontainer", "devcontainer.json")
	write(t, cfg, `{"image": "`+reg.Host+`/base/img:1", "features": {`+features[2:]+`}}`)
	ws := &Workspace{Folder: wsDir, ConfigPath: cfg}
	rc, err := registry.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	reg.SetLatency(100 * time.Millisecond)

	// Sequential: the Plan's own walk, nothing prefetched.
	loaded, err := loadConfig(ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg.MaxInFlight()
	seq, err := plan.ForConfig(ctx, ws.Folder, loaded, plan.Options{
		ConfigPath: ws.ConfigPath, Resolver: New(rc, WithCacheDir(t.TempDir())), Lock: plan.LockUse,
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := reg.MaxInFlight(); n != 1 {
		t.Fatalf("the sequential walk had %d requests in flight; the counter is broken", n)
	}

	reg.Requests()
	res, err := Plans(ctx, Options{Workspace: ws, Registry: rc, Lock: plan.LockUse, Resolver: New(rc, WithCacheDir(t.TempDir()))})
	if err != nil {
		t.Fatal(err)
	}
	// One ping (and, on a registry with tokens, one token) per repository:
	// the image's and the three features' (manifest, then layer).
	pings := 0
	for _, r := range reg.Requests() {
		if r == "GET /v2/" {
			pings++
		}
	}
	if pings > 4 {
		t.Errorf("%d pings for 4 repositories: the lookups authenticate more than once per repository", pings)
	}
	if n := reg.MaxInFlight(); n < 2 {
		t.Errorf("Plans had at most %d request in flight: the lookups did not overlap", n)
	}
	if len(res.Plans) != 1 || !bytes.Equal(res.Plans[0].JSON(), seq.Plan.JSON()) {
		t.Errorf("concurrent Plan differs from the sequential one:\n%s\n%s", res.Plans[0].JSON(), seq.Plan.JSON())
	}
}

func write(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}
