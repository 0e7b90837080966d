package plugin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/plugin/warm"
)

// TestWarm: warm fills an OCI layout with a config's base image and OCI
// feature and an --image; a second run downloads no blob and sends one
// manifest HEAD per mutable reference and nothing else; a moved tag is
// fetched again (only its new blobs).
func TestWarm(t *testing.T) {
	isolate(t)
	reg := resolvetest.StartRegistry(t)
	baseDigest := reg.PushImage(t, "base/debian:12", resolvetest.ImageConfig{User: "dev"})
	otherDigest := reg.PushImage(t, "tools/other:1", resolvetest.ImageConfig{User: "other"})
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "hello", "devcontainer-feature.json"), `{"id":"hello","version":"1.0.0"}`, 0o644)
	writeFile(t, filepath.Join(src, "hello", "install.sh"), "#!/bin/sh\n", 0o755)
	pub := reg.PublishFeature(t, filepath.Join(src, "hello"), "f/hello", nil, "1")
	ws := imageWorkspace(t, `{"image": "`+reg.Host+`/base/debian:12", "features": {"`+reg.Host+`/f/hello:1": {}}}`)
	dir := filepath.Join(t.TempDir(), "warm")
	args := []string{"warm", "--workspace-folder", ws, "--dir", dir, "--image", reg.Host + "/tools/other:1", "--platform", "linux/amd64", "--format", "json"}

	type out struct {
		Refs []warm.Target `json:"refs"`
	}
	run := func() out {
		t.Helper()
		r := runDevcache(t, args...)
		var o out
		if err := json.Unmarshal([]byte(r.stdout), &o); err != nil || r.code != 0 {
			t.Fatalf("warm: %v\n%s", err, r)
		}
		return o
	}
	first := run()
	stored := map[string]string{}
	for _, tg := range first.Refs {
		if !tg.Fetched {
			t.Errorf("first run did not fetch %+v", tg)
		}
		stored[tg.Ref] = tg.Stored
	}
	for ref, want := range map[string]string{
		reg.Host + "/base/debian@" + baseDigest:     baseDigest,
		reg.Host + "/tools/other:1":                 otherDigest,
		reg.Host + "/f/hello@" + pub.ManifestDigest: pub.ManifestDigest,
	} {
		if stored[ref] != want {
			t.Errorf("%s stored as %q, want %s (all: %v)", ref, stored[ref], want, stored)
		}
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := p.ImageIndex()
	im, _ := idx.IndexManifest()
	if len(im.Manifests) != 3 {
		t.Errorf("index.json has %d entries", len(im.Manifests))
	}
	if _, err := os.Stat(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(pub.LayerDigest, "sha256:"))); err != nil {
		t.Errorf("feature layer not in the layout: %v", err)
	}

	reg.Requests()
	second := run()
	reqs := reg.Requests()
	t.Logf("second run's requests: %q", reqs)
	perPath := map[string]int{}
	for _, q := range reqs {
		if !strings.HasPrefix(q, "HEAD /v2/") || !strings.Contains(q, "/manifests/") {
			t.Errorf("second run sent %q", q)
		}
		perPath[q]++
	}
	for _, mutable := range []string{"HEAD /v2/base/debian/manifests/12", "HEAD /v2/tools/other/manifests/1", "HEAD /v2/f/hello/manifests/1"} {
		if perPath[mutable] > 1 {
			t.Errorf("%s sent %d times", mutable, perPath[mutable])
		}
	}
	if len(reqs) > 3 {
		t.Errorf("second run: %d requests for 3 mutable refs: %q", len(reqs), reqs)
	}
	for _, tg := range second.Refs {
		if tg.Fetched || tg.Blobs != 0 {
			t.Errorf("second run fetched %+v", tg)
		}
	}

	// The tag moves: only it is fetched again.
	moved := reg.PushImage(t, "tools/other:1", resolvetest.ImageConfig{User: "moved"})
	third := run()
	for _, tg := range third.Refs {
		if tg.Fetched != (tg.Ref == reg.Host+"/tools/other:1") {
			t.Errorf("after the move: %+v", tg)
		}
		if tg.Ref == reg.Host+"/tools/other:1" && tg.Stored != moved {
			t.Errorf("moved tag stored as %s, want %s", tg.Stored, moved)
		}
	}
	idx, _ = p.ImageIndex()
	if im, _ = idx.IndexManifest(); len(im.Manifests) != 3 {
		t.Errorf("index.json has %d entries after the move", len(im.Manifests))
	}

	if r := runDevcache(t, "warm", "--workspace-folder", ws); r.code == 0 || !strings.Contains(r.stderr, "--dir is required") {
		t.Errorf("without --dir: %s", r)
	}
	if r := runDevcache(t, "warm", "--dir", dir, "--no-config", "--image", "evil.example.com/x:1", "--allow", "docker.io/**"); r.code == 0 || !strings.Contains(r.stderr, "evil.example.com/x:1") {
		t.Errorf("policy: %s", r)
	}
}

// TestWarmDockerfile: every external image of a Dockerfile config is warmed
// by digest; a second run sends one HEAD per tag and downloads nothing.
func TestWarmDockerfile(t *testing.T) {
	isolate(t)
	reg := resolvetest.StartRegistry(t)
	a := reg.PushImage(t, "img/builder:1", resolvetest.ImageConfig{})
	b := reg.PushImage(t, "img/base:1", resolvetest.ImageConfig{User: "dev"})
	ws := filepath.Join(t.TempDir(), "ws")
	writeFile(t, filepath.Join(ws, ".devcontainer", "Dockerfile"), "FROM "+reg.Host+"/img/builder:1 AS build\nRUN true\nFROM "+reg.Host+"/img/base:1\nCOPY --from=build /x /x\n", 0o644)
	writeFile(t, filepath.Join(ws, ".devcontainer", "devcontainer.json"), `{"build": {"dockerfile": "Dockerfile"}}`, 0o644)
	dir := filepath.Join(t.TempDir(), "warm")
	r := runDevcache(t, "warm", "--workspace-folder", ws, "--dir", dir, "--platform", "linux/amd64")
	if r.code != 0 || !strings.Contains(r.stdout, reg.Host+"/img/builder@"+a) || !strings.Contains(r.stdout, reg.Host+"/img/base@"+b) {
		t.Fatalf("warm: %s", r)
	}
	reg.Requests()
	r = runDevcache(t, "warm", "--workspace-folder", ws, "--dir", dir, "--platform", "linux/amd64")
	reqs := reg.Requests()
	if r.code != 0 || strings.Contains(r.stdout, "fetched (") {
		t.Errorf("second warm: %s", r)
	}
	seen := map[string]int{}
	for _, q := range reqs {
		seen[q]++
		if !strings.HasPrefix(q, "HEAD /v2/img/") || seen[q] > 1 {
			t.Errorf("second warm sent %q (all: %q)", q, reqs)
		}
	}
}
