package plugin

import (
	"github.com/devcache/devcache/plugin/cmdline"

	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/plugin/resolver"
)

// TestAllowPolicy: --allow (and DEVCACHE_ALLOW) refuses a base image, a
// Dockerfile FROM and a feature before any request for them, naming the
// reference and the rule; allowed sources resolve.
func TestAllowPolicy(t *testing.T) {
	isolate(t)
	reg := resolvetest.StartRegistry(t)
	reg.PushImage(t, "approved/base:1", resolvetest.ImageConfig{})
	reg.PushImage(t, "unknown/base:1", resolvetest.ImageConfig{})
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "f", "devcontainer-feature.json"), `{"id":"f","version":"1.0.0"}`, 0o644)
	writeFile(t, filepath.Join(src, "f", "install.sh"), "#!/bin/sh\n", 0o755)
	reg.PublishFeature(t, filepath.Join(src, "f"), "features/f", nil, "1")
	reg.PublishFeature(t, filepath.Join(src, "f"), "evil/f", nil, "1")
	cache := reg.Host + "/cache"
	allow := []string{"--allow", reg.Host + "/approved/*", "--allow", reg.Host + "/features/**"}

	probe := func(ws string, extra ...string) cmdResult {
		return runDevcache(t, append([]string{"probe", "--workspace-folder", ws, "--cache-repo", cache}, extra...)...)
	}

	ok := imageWorkspace(t, `{"image": "`+reg.Host+`/approved/base:1", "features": {"`+reg.Host+`/features/f:1": {}}}`)
	if r := probe(ok, allow...); r.code != 1 {
		t.Errorf("allowed sources: %s", r)
	}

	base := imageWorkspace(t, `{"image": "`+reg.Host+`/unknown/base:1"}`)
	reg.Requests()
	r := probe(base, allow...)
	if r.code != 2 || !strings.Contains(r.stderr, `image "`+reg.Host+`/unknown/base:1"`) || !strings.Contains(r.stderr, "matches none of the --allow rules") || !strings.Contains(r.stderr, reg.Host+"/approved/*") {
		t.Errorf("refused base image: %s", r)
	}
	for _, q := range reg.Requests() {
		if strings.Contains(q, "unknown/base") {
			t.Errorf("refused image was requested: %s", q)
		}
	}

	feat := imageWorkspace(t, `{"image": "`+reg.Host+`/approved/base:1", "features": {"`+reg.Host+`/evil/f:1": {}}}`)
	r = probe(feat, allow...)
	if r.code != 2 || !strings.Contains(r.stderr, `feature "`+reg.Host+`/evil/f:1"`) {
		t.Errorf("refused feature: %s", r)
	}
	// A deny rule is named as the rule that refused.
	r = probe(ok, append(allow, "--allow", "!"+reg.Host+"/features/f")...)
	if r.code != 2 || !strings.Contains(r.stderr, `refused by the rule --allow "!`+reg.Host+`/features/f"`) {
		t.Errorf("deny rule: %s", r)
	}

	// Dockerfile: every FROM the client can see, with ARGs expanded, even
	// one that is not the target's base.
	df := filepath.Join(t.TempDir(), "ws")
	writeFile(t, filepath.Join(df, ".devcontainer", "Dockerfile"), "ARG BUILDER="+reg.Host+"/unknown/base:1\nFROM ${BUILDER} AS build\nRUN true\nFROM "+reg.Host+"/approved/base:1\nCOPY --from=build /x /x\n", 0o644)
	writeFile(t, filepath.Join(df, ".devcontainer", "devcontainer.json"), `{"build": {"dockerfile": "Dockerfile"}}`, 0o644)
	t.Setenv("DEVCACHE_ALLOW", reg.Host+"/approved/*")
	r = probe(df)
	if r.code != 2 || !strings.Contains(r.stderr, `Dockerfile FROM "`+reg.Host+`/unknown/base:1"`) {
		t.Errorf("refused Dockerfile FROM via DEVCACHE_ALLOW: %s", r)
	}
	t.Setenv("DEVCACHE_ALLOW", reg.Host+"/approved/*,"+reg.Host+"/unknown/*")
	if r := probe(df); r.code != 1 {
		t.Errorf("allowed Dockerfile: %s", r)
	}
}

// TestRegistryMirror: --registry-mirror FROM=TO/PREFIX fetches a public
// name's content from a loopback mirror; the Plan keeps the public name.
func TestRegistryMirror(t *testing.T) {
	isolate(t)
	reg := resolvetest.StartRegistry(t)
	reg.PushImage(t, "ghcr-mirror/acme/base:1", resolvetest.ImageConfig{User: "mirrored"})
	ws := imageWorkspace(t, `{"image": "ghcr.io/acme/base:1"}`)
	r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", reg.Host+"/cache", "--registry-mirror", "ghcr.io="+reg.Host+"/ghcr-mirror", "--format", "json")
	if r.code != 1 || !strings.Contains(r.stdout, "no cache entry") {
		t.Fatalf("mirrored probe: %s", r)
	}
	saw := false
	for _, q := range reg.Requests() {
		saw = saw || strings.HasPrefix(q, "GET /v2/ghcr-mirror/acme/base/manifests/1")
	}
	if !saw {
		t.Error("the mirror was not asked for the image")
	}
	// The Plan keeps the public name; the mirror only served the bytes.
	reg2, err := (&cmdline.RegistryFlags{Mirrors: []string{"ghcr.io=" + reg.Host + "/ghcr-mirror"}}).Client((&cmdline.Root{}).Credentials())
	if err != nil {
		t.Fatal(err)
	}
	img, err := resolver.New(reg2).ResolveImage(t.Context(), "ghcr.io/acme/base:1", "linux/amd64")
	if err != nil || img.Ref != "ghcr.io/acme/base:1" || img.User != "mirrored" {
		t.Errorf("resolved %+v, %v", img, err)
	}
	for _, bad := range []string{"ghcr.io", "=x", "ghcr.io=bad host"} {
		if _, err := (&cmdline.RegistryFlags{Mirrors: []string{bad}}).Client((&cmdline.Root{}).Credentials()); err == nil {
			t.Errorf("--registry-mirror %q accepted", bad)
		}
	}
}

// TestRegistryCA: a TLS registry whose certificate only --registry-ca
// trusts is reachable through a mirror; without the CA it is an error
// (exit 2), never a miss.
func TestRegistryCA(t *testing.T) {
	isolate(t)
	h := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "https://")
	ref, _ := name.ParseReference(host + "/base/debian:12")
	img, _ := random.Image(64, 1)
	if err := remote.Write(ref, img, remote.WithTransport(srv.Client().Transport)); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	writeFile(t, ca, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})), 0o644)

	ws := imageWorkspace(t, `{"image": "registry.test/base/debian:12"}`)
	mirror := "registry.test=https://" + host
	r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", "registry.test/cache", "--registry-mirror", mirror, "--registry-ca", ca)
	if r.code != 1 || !strings.Contains(r.stderr, "miss: no cache entry registry.test/cache:dc-") {
		t.Errorf("with the CA: %s", r)
	}
	r = runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", "registry.test/cache", "--registry-mirror", mirror)
	if r.code != 2 || !strings.Contains(r.stderr, "certificate") {
		t.Errorf("without the CA: %s", r)
	}
	if r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", "registry.test/cache", "--registry-ca", filepath.Join(t.TempDir(), "none.pem")); r.code != 2 || !strings.Contains(r.stderr, "--registry-ca") {
		t.Errorf("missing CA file: %s", r)
	}
}
