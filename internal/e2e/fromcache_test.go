package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/moby/buildkit/client"

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
			t.Logf("build --cache-repo on a fresh daemon: %v\n%s", time.Since(start).Round(time.Millisecond), timeline(errOut))
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
// daemon should still take every install step from the registry. It does
// not today: the scope's layer cache is one tag (cache-<scope>) that each
// push overwrites with its own solve's layers (mode=max), so the first
// config's b and c layers are gone from it. This is what made the
// benchmark's "fresh builder + registry cache" figure 2.6× the reference
// (bench/build/RESULTS.md, "Where the time goes").
func TestBuildFromPushCacheAfterEdit(t *testing.T) {
	t.Skip("known (issue 12): the scope's layer cache keeps the last push's layers only; remove this skip with the fix (e.g. a per-key layer cache ref that build --cache-repo also imports)")
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

// timeline lists a rawjson solve's vertices and progress items by start:
// offset from the first, duration, and whether the vertex was cached.
func timeline(rawjson string) string {
	type item struct {
		name           string
		start, stop    time.Time
		cached, vertex bool
	}
	items := map[string]*item{}
	get := func(key, name string, vertex bool) *item {
		it := items[key]
		if it == nil {
			it = &item{name: name, vertex: vertex}
			items[key] = it
		}
		return it
	}
	span := func(it *item, started, completed *time.Time) {
		if started != nil && (it.start.IsZero() || started.Before(it.start)) {
			it.start = *started
		}
		if completed != nil && completed.After(it.stop) {
			it.stop = *completed
		}
	}
	sc := bufio.NewScanner(strings.NewReader(rawjson))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var st client.SolveStatus
		if !strings.HasPrefix(sc.Text(), "{") || json.Unmarshal(sc.Bytes(), &st) != nil {
			continue
		}
		for _, v := range st.Vertexes {
			it := get(v.Digest.String(), v.Name, true)
			it.cached = it.cached || v.Cached
			span(it, v.Started, v.Completed)
		}
		for _, v := range st.Statuses {
			span(get(v.Vertex.String()+v.ID, "  "+v.ID, false), v.Started, v.Completed)
		}
	}
	var list []*item
	var first time.Time
	for _, it := range items {
		if it.start.IsZero() {
			continue
		}
		list = append(list, it)
		if first.IsZero() || it.start.Before(first) {
			first = it.start
		}
	}
	slices.SortFunc(list, func(a, b *item) int { return a.start.Compare(b.start) })
	var b strings.Builder
	for _, it := range list {
		d := "running"
		if !it.stop.IsZero() {
			d = it.stop.Sub(it.start).Round(time.Millisecond).String()
		}
		c := ""
		if it.cached {
			c = " CACHED"
		}
		fmt.Fprintf(&b, "%8s %9s%s %s\n", it.start.Sub(first).Round(time.Millisecond), d, c, it.name)
	}
	return b.String()
}
