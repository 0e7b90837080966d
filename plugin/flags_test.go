package plugin

import (
	"github.com/devcache/devcache/plugin/cmdline"

	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	dccache "github.com/devcache/devcache/plugin/cache"
)

// mirroredWorkspace is a config whose base image and OCI feature have a
// public name (ghcr.io/acme/…) served only through the loopback mirror
// reg/ghcr-mirror; the feature installsAfter a feature that is not in the
// config, on the same unreachable registry and namespace. A lockfile pins
// the feature's first version; its tag has moved on since.
func mirroredWorkspace(t *testing.T) (ws, mirror string, reg *resolvetest.Registry) {
	t.Helper()
	reg = resolvetest.StartRegistry(t)
	reg.PushImage(t, "ghcr-mirror/acme/base:1", resolvetest.ImageConfig{User: "dev"})
	src := t.TempDir()
	for i, v := range []string{"1.0.0", "1.0.1"} {
		dir := filepath.Join(src, v)
		writeFile(t, filepath.Join(dir, "devcontainer-feature.json"), `{"id":"hello","version":"`+v+`","installsAfter":["ghcr.io/acme/features/absent"],"customizations":{"vscode":{"extensions":["x.y"]}}}`, 0o644)
		writeFile(t, filepath.Join(dir, "install.sh"), "#!/bin/sh\necho "+v+"\n", 0o755)
		reg.PublishFeature(t, dir, "ghcr-mirror/acme/features/hello", nil, "1")
		if i == 0 {
			ws = imageWorkspace(t, `{"image": "ghcr.io/acme/base:1", "features": {"ghcr.io/acme/features/hello:1": {}}}`)
			mirror = "ghcr.io=" + reg.Host + "/ghcr-mirror"
			if r := runDevcache(t, "lock", "--workspace-folder", ws, "--registry-mirror", mirror); r.code != 0 {
				t.Fatalf("lock: %s", r)
			}
		}
	}
	return ws, mirror, reg
}

var keyRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// TestResolutionFlagsAgree: plan, probe and push take the same resolution
// flags and compute the same key under each set of them (push finds the
// entry probe names without building); the flags change the key where
// they change the Plans, and the platform order and duplicates do not. The
// feature's soft dependency on an unreachable feature is never fetched.
func TestResolutionFlagsAgree(t *testing.T) {
	isolate(t)
	ws, mirror, upstream := mirroredWorkspace(t)
	cache := resolvetest.StartRegistry(t).Host + "/cache"
	common := []string{"--workspace-folder", ws, "--registry-mirror", mirror, "--format", "json"}
	host := "linux/" + runtime.GOARCH
	// Sets of one group must have the same key, of different groups not.
	sets := []struct {
		name, group string
		flags       []string
	}{
		{"lockfile", "pinned", nil},
		{"frozen-lockfile", "pinned", []string{"--frozen-lockfile"}},
		{"client platform", "pinned", []string{"--platform", host}},
		{"client platform twice", "pinned", []string{"--platform", host + "," + host}},
		{"no-lockfile", "moved", []string{"--no-lockfile"}},
		{"skip-customizations", "skip", []string{"--skip-persisting-customizations-from-features"}},
		{"platforms", "multi", []string{"--platform", "linux/arm64,linux/amd64"}},
		{"platforms reordered, duplicated", "multi", []string{"--platform", "linux/amd64", "--platform", "linux/arm64/v8,linux/arm64"}},
	}
	keys := map[string]string{}
	for _, s := range sets {
		t.Run(s.name, func(t *testing.T) {
			args := append(append([]string{}, common...), s.flags...)
			r := runDevcache(t, append([]string{"plan"}, args...)...)
			var p struct {
				Key   string            `json:"key"`
				Plans []json.RawMessage `json:"plans"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &p); err != nil || r.code != 0 || !keyRE.MatchString(p.Key) {
				t.Fatalf("plan: %v\n%s", err, r)
			}
			keys[s.name] = p.Key
			if wantPlans := map[bool]int{true: 2, false: 0}[s.group == "multi"]; len(p.Plans) != wantPlans {
				t.Errorf("plan printed %d Plans under \"plans\", want %d:\n%s", len(p.Plans), wantPlans, r.stdout)
			}

			r = runDevcache(t, append([]string{"probe", "--cache-repo", cache}, args...)...)
			var pr cmdline.ProbeResult
			if err := json.Unmarshal([]byte(r.stdout), &pr); err != nil || r.code != cmdline.ExitMiss && r.code != cmdline.ExitHit {
				t.Fatalf("probe: %v\n%s", err, r)
			}
			if pr.Key != p.Key || pr.Ref != cache+":"+dccache.TagOf(p.Key) {
				t.Errorf("probe key %s ref %s, plan key %s", pr.Key, pr.Ref, p.Key)
			}

			digest := pushEntry(t, cache, dccache.TagOf(p.Key), time.Now(), nil)
			meta := filepath.Join(t.TempDir(), "meta.json")
			r = runDevcache(t, append([]string{"push", "--cache-repo", cache, "--metadata-file", meta}, args...)...)
			var pu pushResult
			b, _ := os.ReadFile(meta)
			if err := json.Unmarshal(b, &pu); err != nil || r.code != 0 {
				t.Fatalf("push: %v\n%s", err, r)
			}
			if pu.Key != p.Key || !pu.Cached || pu.Digest != digest {
				t.Errorf("push key %s cached %v digest %s; plan key %s, entry %s", pu.Key, pu.Cached, pu.Digest, p.Key, digest)
			}
		})
	}
	for _, q := range upstream.Requests() {
		if strings.Contains(q, "absent") {
			t.Errorf("the soft dependency was fetched: %s", q)
		}
	}
	for i, s := range sets {
		for _, o := range sets[i+1:] {
			if keys[s.name] == "" || keys[o.name] == "" {
				continue
			}
			if same := s.group == o.group; (keys[s.name] == keys[o.name]) != same {
				t.Errorf("key of %q %s, of %q %s: want same=%v", s.name, keys[s.name], o.name, keys[o.name], same)
			}
		}
	}
}
