package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/crane"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/internal/stack/stacktest"
)

// TestResolutionFlagsBuildAndPush: plan, build, push and probe take the
// same resolution flags and agree on the key under each set of them, on a
// config whose OCI feature is reached only through --registry-mirror
// (ghcr.io, which buildkitd mirrors to the stack's registry too) and
// installsAfter a feature that does not exist there; a lockfile pins the
// feature's first version, whose tag has moved on. The images push stores
// hold the version the flags chose.
func TestResolutionFlagsBuildAndPush(t *testing.T) {
	s := stacktest.Get(t)
	nonce := fmt.Sprint(time.Now().UnixNano())
	ns := "e2e-keyflags-" + nonce
	mirror := "ghcr.io=" + s.Registry
	env := []string{"XDG_CACHE_HOME=" + t.TempDir()}
	staging := resolvetest.StartRegistry(t)
	src := t.TempDir()
	var ws string
	for i, v := range []string{"v1", "v2"} {
		dir := filepath.Join(src, v)
		writeFileT(t, filepath.Join(dir, "devcontainer-feature.json"), `{"id":"hello","version":"1.0.`+fmt.Sprint(i)+`","installsAfter":["ghcr.io/`+ns+`/features/absent"]}`)
		writeFileT(t, filepath.Join(dir, "install.sh"), "#!/bin/sh\nset -e\necho "+v+" "+nonce+" > /hello-version\n")
		// Published as the reference does, then copied byte for byte to
		// the stack's registry (distribution takes no monolithic POST).
		pub := staging.PublishFeature(t, dir, ns+"/features/hello", nil, "1")
		if err := crane.Copy(pub.Ref, s.Ref(ns+"/features/hello:1")); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			ws = writeWorkspace(t, map[string]string{
				".devcontainer/devcontainer.json": `{"image": "` + s.Ref("busybox:latest") + `", "features": {"ghcr.io/` + ns + `/features/hello:1": {}}, "remoteUser": "root"}`,
			})
			devcache(t, ws, s.BuildkitAddr, env, "lock", "--registry-mirror", mirror)
		}
	}
	host := "linux/" + runtime.GOARCH
	repo := s.Ref("e2e/keyflags")
	keys := map[string]string{}
	for _, c := range []struct {
		name, version string
		flags         []string
	}{
		{"lockfile", "v1", nil},
		{"client platform twice", "v1", []string{"--platform", host + "," + host}},
		{"no-lockfile", "v2", []string{"--no-lockfile"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			flags := append([]string{"--registry-mirror", mirror}, c.flags...)
			keys[c.name] = planKey(t, ws, s.BuildkitAddr, env, flags)

			meta := filepath.Join(t.TempDir(), "build.json")
			devcache(t, ws, s.BuildkitAddr, env, append([]string{"build", "--progress", "quiet", "--metadata-file", meta}, flags...)...)
			var bm map[string]any
			if err := json.Unmarshal(readFileT(t, meta), &bm); err != nil || bm["devcache.key"] != keys[c.name] {
				t.Errorf("build metadata %v (%v), want devcache.key %s", bm, err, keys[c.name])
			}

			meta = filepath.Join(t.TempDir(), "push.json")
			devcache(t, ws, s.BuildkitAddr, env, append([]string{"push", "--cache-repo", repo, "--progress", "quiet", "--metadata-file", meta}, flags...)...)
			var pm struct{ Key, KeyTag, Ref string }
			if err := json.Unmarshal(readFileT(t, meta), &pm); err != nil || pm.Key != keys[c.name] || pm.KeyTag != repo+":dc-"+strings.TrimPrefix(pm.Key, "sha256:") {
				t.Fatalf("push metadata %+v (%v), want key %s", pm, err, keys[c.name])
			}
			if got := imageFiles(t, pm.Ref)["/hello-version"]; got != c.version+" "+nonce+"\n" {
				t.Errorf("/hello-version = %q, want %s", got, c.version)
			}

			out, _ := devcache(t, ws, s.BuildkitAddr, env, append([]string{"probe", "--cache-repo", repo, "--format", "json"}, flags...)...)
			var pr struct {
				Hit   bool
				Key   string
				Image string
			}
			if err := json.Unmarshal([]byte(out), &pr); err != nil || !pr.Hit || pr.Key != keys[c.name] || pr.Image != pm.Ref {
				t.Errorf("probe %s (%v), want a hit on %s with key %s", out, err, pm.Ref, keys[c.name])
			}
		})
	}
	if keys["lockfile"] != keys["client platform twice"] || keys["lockfile"] == keys["no-lockfile"] {
		t.Errorf("keys %v: the lockfile sets must agree and --no-lockfile differ", keys)
	}
}

// planKey is the key `plan --format json` prints under flags.
func planKey(t *testing.T, ws, buildkitAddr string, env, flags []string) string {
	t.Helper()
	out, _ := devcache(t, ws, buildkitAddr, env, append([]string{"plan", "--format", "json"}, flags...)...)
	var p struct{ Key string }
	if err := json.Unmarshal([]byte(out), &p); err != nil || !strings.HasPrefix(p.Key, "sha256:") {
		t.Fatalf("plan printed %s (%v)", out, err)
	}
	return p.Key
}

func writeFileT(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

func readFileT(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
