package resolve_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/features"
	"github.com/devcache/devcache/devcontainer/resolve"
	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
)

func feature(t *testing.T, json string) string {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "devcontainer-feature.json"), []byte(json), 0o644)
	os.WriteFile(filepath.Join(dir, "install.sh"), []byte("#!/bin/sh\n"), 0o755)
	return dir
}

func ref(t *testing.T, s string) *features.Ref {
	r, err := features.ParseRef(s, features.RefContext{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestResolveOCI(t *testing.T) {
	reg := resolvetest.StartRegistry(t)
	ctx := context.Background()
	// With the annotation, the dependency pass reads it (it wins over the
	// payload's json).
	pub := reg.PublishFeature(t, feature(t, `{"id":"a","version":"1"}`), "ns/f/a", strPtr(`{"id":"a","version":"1","installsAfter":["x/y/z"]}`), "1")
	c := resolve.New(resolve.Options{CacheDir: t.TempDir()})
	src, err := c.Resolve(ctx, ref(t, reg.Host+"/ns/f/a:1"), "")
	if err != nil {
		t.Fatal(err)
	}
	if src.ManifestDigest != pub.ManifestDigest || src.LayerDigest != pub.LayerDigest || !src.DepMetadata.Has("installsAfter") || src.PayloadMetadata.Has("installsAfter") {
		t.Errorf("source %+v", src)
	}
	tree, err := c.Payload(ctx, src)
	if err != nil || len(tree.Files) != 2 {
		t.Errorf("payload %v %v", tree, err)
	}
	// Without it, the payload's json.
	reg.PublishFeature(t, feature(t, `{"id":"b","version":"2"}`), "ns/f/b", strPtr(""), "latest")
	src, err = c.Resolve(ctx, ref(t, reg.Host+"/ns/f/b"), "")
	if err != nil || src.DepMetadata == nil || !src.DepMetadata.Has("version") {
		t.Errorf("no annotation: %+v %v", src, err)
	}
	// Not found, and not a feature.
	if _, err := c.Resolve(ctx, ref(t, reg.Host+"/ns/f/missing:1"), ""); err == nil || !strings.Contains(err.Error(), "ERR: Feature '"+reg.Host+"/ns/f/missing:1' could not be processed.") {
		t.Errorf("missing: %v", err)
	}
	reg.PushImage(t, "ns/f/image:1", resolvetest.ImageConfig{})
	if _, err := c.Resolve(ctx, ref(t, reg.Host+"/ns/f/image:1"), ""); err == nil || !strings.Contains(err.Error(), "unexpected manifest media type") {
		t.Errorf("image as feature: %v", err)
	}
}

func TestResolveImage(t *testing.T) {
	reg := resolvetest.StartRegistry(t)
	d := reg.PushImage(t, "base:1", resolvetest.ImageConfig{User: "u", Env: []string{"A=1"}, Labels: map[string]string{"devcontainer.metadata": "[]"}, OnBuild: []string{"COPY . /app"}})
	img, err := resolve.New(resolve.Options{}).ResolveImage(context.Background(), reg.Host+"/base:1", "linux/amd64")
	if err != nil {
		t.Fatal(err)
	}
	if img.ManifestDigest != d || img.Digest != d || img.User != "u" || img.Env[0] != "A=1" || img.Labels["devcontainer.metadata"] != "[]" || len(img.OnBuild) != 1 || img.OnBuild[0] != "COPY . /app" {
		t.Errorf("%+v", img)
	}
}

func TestResolveLocalMissingMetadata(t *testing.T) {
	ws := t.TempDir()
	os.MkdirAll(filepath.Join(ws, ".devcontainer", "x"), 0o755)
	r, err := features.ParseRef("./x", features.RefContext{ConfigPath: filepath.ToSlash(filepath.Join(ws, ".devcontainer", "devcontainer.json")), Workspace: filepath.ToSlash(ws)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resolve.New(resolve.Options{}).Resolve(context.Background(), r, ""); err == nil || !strings.Contains(err.Error(), "has no devcontainer-feature.json") {
		t.Errorf("err = %v", err)
	}
}

func strPtr(s string) *string { return &s }

// TestTarballDownload checks that an injected Download replaces the HTTP
// GET (the frontend fetches through BuildKit) and that the Client still
// pins, bounds and extracts what it returns.
func TestTarballDownload(t *testing.T) {
	ctx := context.Background()
	archive := resolvetest.FeatureTar(t, feature(t, `{"id":"w","version":"3"}`))
	const url = "https://tarballs.invalid/devcontainer-feature-w.tgz"
	var asked []string
	download := func(_ context.Context, u string) (io.ReadCloser, error) {
		asked = append(asked, u)
		return io.NopCloser(bytes.NewReader(archive)), nil
	}
	c := resolve.New(resolve.Options{Download: download})
	src, err := c.Resolve(ctx, ref(t, url), "")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(archive)
	if src.TarballDigest != "sha256:"+hex.EncodeToString(sum[:]) || !src.PayloadMetadata.Has("version") {
		t.Errorf("source %+v", src)
	}
	if len(asked) != 1 || asked[0] != url {
		t.Errorf("Download called with %q, want once with %s", asked, url)
	}
	// A pin the bytes do not match, and a size bound.
	if _, err := resolve.New(resolve.Options{Download: download}).Resolve(ctx, ref(t, url), "sha256:"+strings.Repeat("0", 64)); err == nil || !strings.Contains(err.Error(), "Digest did not match") {
		t.Errorf("wrong pin: %v", err)
	}
	small := resolve.New(resolve.Options{Download: download, MaxDownload: 10})
	if _, err := small.Resolve(ctx, ref(t, url), ""); err == nil || !strings.Contains(err.Error(), "larger than 10 bytes") {
		t.Errorf("MaxDownload: %v", err)
	}
	failing := resolve.New(resolve.Options{Download: func(context.Context, string) (io.ReadCloser, error) {
		return nil, errors.New("refused")
	}})
	if _, err := failing.Resolve(ctx, ref(t, url), ""); err == nil || err.Error() != "fetching "+url+": refused" {
		t.Errorf("failing Download: %v", err)
	}
}
