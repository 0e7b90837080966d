package plugin

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve"
	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
)

func writeFile(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// planWorkspace is a workspace with a local, an OCI and a tarball feature,
// all served on loopback.
func planWorkspace(t *testing.T) (ws string, r plan.Resolver, oci resolvetest.Published, tgzURL string) {
	reg := resolvetest.StartRegistry(t)
	files := resolvetest.StartFiles(t)
	reg.PushImage(t, "base/debian:12", resolvetest.ImageConfig{User: "dev", Labels: map[string]string{"devcontainer.metadata": `[{"remoteUser":"dev"}]`}})

	src := t.TempDir()
	writeFile(t, filepath.Join(src, "hello", "devcontainer-feature.json"), `{"id":"hello","version":"1.0.0","options":{"greeting":{"type":"string","default":"hey"}},"postCreateCommand":"hello"}`, 0o644)
	writeFile(t, filepath.Join(src, "hello", "install.sh"), "#!/bin/sh\necho $GREETING\n", 0o755)
	oci = reg.PublishFeature(t, filepath.Join(src, "hello"), "devcache/features/hello", nil, "1", "latest")

	writeFile(t, filepath.Join(src, "tgz", "devcontainer-feature.json"), `{"id":"tgz","version":"0.2.0","options":{"level":{"type":"string","default":"1"}}}`, 0o644)
	writeFile(t, filepath.Join(src, "tgz", "install.sh"), "#!/bin/sh\ntrue\n", 0o755)
	tgzURL = files.Put("/dl/devcontainer-feature-tgz.tgz", resolvetest.FeatureTar(t, filepath.Join(src, "tgz")))

	ws = filepath.Join(t.TempDir(), "ws")
	writeFile(t, filepath.Join(ws, ".devcontainer", "local", "devcontainer-feature.json"), `{"id":"local","version":"0.0.1","options":{"version":{"type":"string","default":"lts"}}}`, 0o644)
	writeFile(t, filepath.Join(ws, ".devcontainer", "local", "install.sh"), "#!/bin/sh\ntrue\n", 0o755)
	writeFile(t, filepath.Join(ws, ".devcontainer", "devcontainer.json"), `{
	// JSONC with comments
	"image": "`+reg.Host+`/base/debian:12",
	"features": {
		"./local": "18",
		"`+reg.Host+`/devcache/features/hello:1": {"greeting": "hi there"},
		"`+tgzURL+`": {"level": "2"},
	},
	"remoteEnv": {"X": "1"},
}`, 0o644)
	return ws, resolve.New(resolve.Options{CacheDir: t.TempDir(), HTTPClient: files.Client}), oci, tgzURL
}

// TestPlanCommandJSON: `plan --format json` prints the order, option env,
// digests and label, and the same Plan twice is byte-identical.
func TestPlanCommandJSON(t *testing.T) {
	ws, r, oci, tgzURL := planWorkspace(t)
	old := newPlanResolver
	newPlanResolver = func(authn.Keychain) plan.Resolver { return r }
	t.Cleanup(func() { newPlanResolver = old })

	run := func() []byte {
		opts := &rootOptions{workspaceFolder: ws, format: "json", platforms: []string{"linux/amd64"}}
		cmd := newPlanCommand(opts)
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetArgs(nil)
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	first, second := run(), run()
	if !bytes.Equal(first, second) {
		t.Fatalf("two runs differ:\n%s\n%s", first, second)
	}
	var got struct {
		Key  string    `json:"key"`
		Plan plan.Plan `json:"plan"`
	}
	if err := json.Unmarshal(first, &got); err != nil {
		t.Fatalf("%v\n%s", err, first)
	}
	p := got.Plan
	if !strings.HasPrefix(got.Key, "sha256:") || got.Key != p.Key() {
		t.Errorf("key %q, plan key %q", got.Key, p.Key())
	}
	var order []string
	for _, f := range p.Features {
		order = append(order, f.ConsecutiveID+"="+f.EnvFile)
	}
	// Different kinds sort by the user's key with locale collation:
	// "./local" < "https://…" < "localhost:…".
	want := []string{`local_0=VERSION="18"`, `tgz_1=LEVEL="2"`, `hello_2=GREETING="hi there"`}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("order/env = %q, want %q", order, want)
	}
	if s := p.Features[2].Source; s.ManifestDigest != oci.ManifestDigest || s.LayerDigest != oci.LayerDigest || s.Kind != "oci" {
		t.Errorf("oci source = %+v, want %+v", s, oci)
	}
	if s := p.Features[1].Source; s.URL != tgzURL || !strings.HasPrefix(s.SHA256, "sha256:") {
		t.Errorf("tarball source = %+v", s)
	}
	if s := p.Features[0].Source; s.Path != ".devcontainer/local" || !strings.HasPrefix(s.ContentDigest, "sha256:") {
		t.Errorf("local source = %+v", s)
	}
	if p.Base.Image == nil || !strings.HasPrefix(p.Base.Image.ManifestDigest, "sha256:") {
		t.Errorf("base = %+v", p.Base.Image)
	}
	wantLabel := `[ {"remoteUser":"dev"}, {"id":"./local"}, {"id":"` + tgzURL + `"}, {"id":"` + oci.Ref + `","postCreateCommand":"hello"}, {"remoteEnv":{"X":"1"}} ]`
	if p.MetadataLabel != wantLabel {
		t.Errorf("label\n got %s\nwant %s", p.MetadataLabel, wantLabel)
	}
	if p.Users == nil || p.Users.ContainerUser != "dev" || p.Users.RemoteUser != "dev" || p.ImageUser != "dev" {
		t.Errorf("users = %+v, image user %q", p.Users, p.ImageUser)
	}

	// The text format names the same things.
	var text bytes.Buffer
	if err := printPlan(&text, "text", &p); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"hello_2", oci.ManifestDigest, tgzURL, `GREETING="hi there"`} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text output lacks %q:\n%s", s, text.String())
		}
	}
}
