package conformance

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
)

func writeJSON(t *testing.T, p string, v any) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(v, "", "\t")
	if err := os.WriteFile(p, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeInstall(t *testing.T, dir, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "install.sh"), []byte("#!/bin/sh\nset -e\n"+text+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// mixedWorkspace builds a workspace whose features are OCI (published by
// the reference's `features publish` to a loopback registry), an https
// tarball and a local folder, with dependsOn across kinds, a soft
// dependency matched through legacyIds, the version shorthand, an
// upper-case key and an install-order override.
func mixedWorkspace(t *testing.T, cli string) (ws string, env []string) {
	reg := resolvetest.StartRegistry(t)
	files := resolvetest.StartFiles(t)
	httpClient = files.Client
	t.Cleanup(func() { httpClient = nil })
	ns := reg.Host + "/devcache/features"

	src := t.TempDir()
	writeJSON(t, filepath.Join(src, "hello", "devcontainer-feature.json"), map[string]any{
		"id": "hello", "version": "1.2.3", "name": "Hello 'quoted'", "documentationURL": "https://example.com/hello",
		"options": map[string]any{
			"version":  map[string]any{"type": "string", "default": "latest"},
			"greeting": map[string]any{"type": "string", "default": "hey"},
		},
		"containerEnv":   map[string]any{"HELLO_HOME": "/opt/hello", "PATH": "/opt/hello/bin:${PATH}"},
		"customizations": map[string]any{"vscode": map[string]any{"extensions": []string{"hello.ext"}}},
	})
	writeInstall(t, filepath.Join(src, "hello"), `echo "$GREETING $VERSION"`)
	writeJSON(t, filepath.Join(src, "newname", "devcontainer-feature.json"), map[string]any{
		"id": "newname", "version": "2.0.0", "name": "New name", "legacyIds": []string{"oldname"}, "deprecated": true,
		"init": true, "mounts": []any{map[string]any{"source": "x", "target": "/x", "type": "volume"}},
	})
	writeInstall(t, filepath.Join(src, "newname"), "true")
	writeJSON(t, filepath.Join(src, "withdeps", "devcontainer-feature.json"), map[string]any{
		"id": "withdeps", "version": "1.0.0", "name": "With deps",
		"dependsOn":     map[string]any{ns + "/hello:1": map[string]any{"greeting": "from-dep"}},
		"installsAfter": []string{ns + "/oldname"},
		"options":       map[string]any{"flag": map[string]any{"type": "boolean", "default": true}},
	})
	writeInstall(t, filepath.Join(src, "withdeps"), "true")
	Publish(t, cli, reg.Host, "devcache/features", src)

	tgzDir := t.TempDir()
	writeJSON(t, filepath.Join(tgzDir, "devcontainer-feature.json"), map[string]any{
		"id": "tgzfeat", "version": "0.1.0", "installsAfter": []string{ns + "/hello"},
		"options": map[string]any{"x": map[string]any{"type": "string"}},
	})
	writeInstall(t, tgzDir, "true")
	if err := os.WriteFile(filepath.Join(tgzDir, ".hidden"), []byte("dropped from tarballs"), 0o644); err != nil {
		t.Fatal(err)
	}
	tgzURL := files.Put("/releases/0.1.0/devcontainer-feature-tgzfeat.tgz", resolvetest.FeatureTar(t, tgzDir))

	ws = filepath.Join(t.TempDir(), "mixed")
	writeJSON(t, filepath.Join(ws, ".devcontainer", "local", "devcontainer-feature.json"), map[string]any{
		"id": "local", "version": "0.0.1", "dependsOn": map[string]any{tgzURL: map[string]any{"x": "from-local"}},
		"options": map[string]any{"version": map[string]any{"type": "string", "default": "1"}},
	})
	writeInstall(t, filepath.Join(ws, ".devcontainer", "local"), "true")
	writeJSON(t, filepath.Join(ws, ".devcontainer", "devcontainer.json"), map[string]any{
		"image": "devcache.test/prebuilt:1",
		"features": map[string]any{
			ns + "/withdeps:1": map[string]any{},
			ns + "/newname:2":  map[string]any{},
			tgzURL:             map[string]any{"x": "y"},
			"./local":          true,
			ns + "/hello:1.2":  "18",
			strings.ToUpper(reg.Host) + "/devcache/features/HELLO:latest": map[string]any{},
		},
		"overrideFeatureInstallOrder": []string{ns + "/newname"},
		"remoteEnv":                   map[string]any{"A": "${localEnv:HOME}"},
		"containerEnv":                map[string]any{"CFG": "a $b \"c\""},
	})
	return ws, []string{"NODE_EXTRA_CA_CERTS=" + files.CertFile}
}

// TestDifferentialMixed compares the reference and devcache on a workspace
// with OCI, tarball and local features, then again with the lockfile the
// reference wrote, in frozen mode.
func TestDifferentialMixed(t *testing.T) {
	cli := ReferenceCLI(t)
	ws, env := mixedWorkspace(t, cli)
	res := compareWithReference(t, cli, ws, env)
	if res == nil {
		t.Fatal("the reference failed on the mixed workspace")
	}
	var ids []string
	for _, f := range res.Plan.Features {
		ids = append(ids, f.ConsecutiveID)
	}
	t.Logf("install order: %s", strings.Join(ids, " "))
	if len(ids) < 7 {
		t.Errorf("expected at least 7 installs, got %v", ids)
	}
	// Second round: the lockfile exists; frozen must pass on both sides
	// and give the same result.
	compareWithReference(t, cli, ws, env, "--frozen-lockfile")
}
