package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/devcache/devcache/devcontainer/resolve"
	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/internal/stack"
	"github.com/devcache/devcache/internal/stack/stacktest"
)

// TestBuildFromPushCache: on an empty daemon, build --cache-repo takes
// every feature's install step from the layer cache that push exported
// (a fresh CI runner building what another pushed): no install step runs.
// Local features, and features published to a registry (the usual case).
func TestBuildFromPushCache(t *testing.T) {
	s := stacktest.Get(t)
	for _, kind := range []string{"local", "oci"} {
		t.Run(kind, func(t *testing.T) {
			nonce := fmt.Sprint(time.Now().UnixNano())
			repo := s.Ref("e2e/build-from-push-cache-" + kind)
			ws, ids := optionWorkspace(t, s.Ref("busybox:latest"), nonce, "1"), []string{"./a", "./b", "./c"}
			if kind == "oci" {
				ws, ids = ociFeatureWorkspace(t, s, nonce)
			}
			devcache(t, ws, s.BuildkitAddr, nil, "push", "--cache-repo", repo, "--progress", "quiet")

			fresh := freshDaemon(t)
			start := time.Now()
			_, errOut := devcache(t, ws, fresh.BuildkitAddr, nil, "build", "--cache-repo", repo, "--push", "-t", repo+":fromcache", "--progress", "rawjson")
			t.Logf("build --cache-repo on a fresh daemon: %v", time.Since(start).Round(time.Millisecond))
			runs := vertexRuns(t, errOut)
			for _, id := range ids {
				step := "[devcontainer] install feature " + id
				if ran, ok := runs[step]; !ok {
					t.Errorf("no %q in the solve status: %v", step, runs)
				} else if ran {
					t.Errorf("%q ran although push exported its layer to %s's layer cache (all: %v)", step, repo, runs)
				}
			}
		})
	}
}

// TestBuildFromPushCacheAfterEdit: a config pushed, then an edit of it
// pushed (same scope): build --cache-repo of the first config on an empty
// daemon should still take every install step from the registry. The
// scope's layer cache is one tag (cache-<scope>) that each push overwrites
// with its own solve's layers (mode=max), so the first config's b and c
// layers are gone from it; push also writes the key's own layer cache
// (cache-dc-<key>), which build --cache-repo reads first. Its lack made the
// benchmark's "fresh builder + registry cache" figure 2.6× the reference
// (bench/build/RESULTS.md, "Where the time goes").
func TestBuildFromPushCacheAfterEdit(t *testing.T) {
	s := stacktest.Get(t)
	nonce := fmt.Sprint(time.Now().UnixNano())
	repo := s.Ref("e2e/build-from-push-cache-edit")
	first := optionWorkspace(t, s.Ref("busybox:latest"), nonce, "1")
	devcache(t, first, s.BuildkitAddr, nil, "push", "--cache-repo", repo, "--progress", "quiet")
	devcache(t, optionWorkspace(t, s.Ref("busybox:latest"), nonce, "2"), s.BuildkitAddr, nil, "push", "--cache-repo", repo, "--progress", "quiet")

	fresh := freshDaemon(t)
	_, errOut := devcache(t, first, fresh.BuildkitAddr, nil, "build", "--cache-repo", repo, "--push", "-t", repo+":fromcache", "--progress", "rawjson")
	runs := vertexRuns(t, errOut)
	for _, id := range []string{"a", "b", "c"} {
		if step := "[devcontainer] install feature ./" + id; runs[step] {
			t.Errorf("%q ran although an earlier push of this config exported it (all: %v)", step, runs)
		}
	}
}

// ociFeatureWorkspace publishes three features (a, b, c, each with an
// option and a few MB of output) to the stack's registry and returns a
// config installing them in that order, and their install step names.
func ociFeatureWorkspace(t *testing.T, s *stack.Stack, nonce string) (string, []string) {
	var refs, ids []string
	for _, id := range []string{"a", "b", "c"} {
		dir := writeWorkspace(t, map[string]string{
			"devcontainer-feature.json": `{"id": "` + id + `", "version": "1.0.0", "options": {"v": {"type": "string", "default": "0"}}}`,
			"install.sh": "#!/bin/sh\nset -e\necho " + id + " " + nonce + " $V > /feature-" + id +
				"\ndd if=/dev/urandom of=/feature-" + id + ".bin bs=1M count=4 2>/dev/null\n",
		})
		ref := s.Ref("e2e/features-" + nonce + "/" + id + ":1")
		img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, resolve.FeatureConfigMediaType)
		img, err := mutate.Append(img, mutate.Addendum{Layer: static.NewLayer(resolvetest.FeatureTar(t, dir), resolve.FeatureLayerMediaType)})
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(mustTag(t, ref), img); err != nil {
			t.Fatalf("publishing feature %s: %v", ref, err)
		}
		refs = append(refs, ref)
		ids = append(ids, ref)
	}
	cfg := fmt.Sprintf(`{
  "image": %q,
  "features": {%q: {"v": "1"}, %q: {"v": "1"}, %q: {"v": "1"}},
  "overrideFeatureInstallOrder": [%q, %q, %q],
  "remoteUser": "root"
}
`, s.Ref("busybox:latest"), refs[0], refs[1], refs[2], refs[0], refs[1], refs[2])
	return writeWorkspace(t, map[string]string{".devcontainer/devcontainer.json": cfg}), ids
}
