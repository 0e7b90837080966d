package frontend

import (
	"context"
	"testing"

	"github.com/devcache/devcache/internal/stack/stacktest"
	"github.com/moby/buildkit/client"
)

// TestRegistryCacheImportCoversEveryStep exports the layer cache of a
// Dockerfile config with a feature to the registry (mode=max), empties the
// daemon's cache, and rebuilds importing it: neither the Dockerfile's RUN
// (a sub-solve) nor the feature's install runs again, so the frontend
// forwards cache imports to every solve.
func TestRegistryCacheImportCoversEveryStep(t *testing.T) {
	s := stacktest.Get(t)
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json":               `{"build": {"dockerfile": "Dockerfile"}, "features": {"./hello": {}}}`,
		".devcontainer/Dockerfile":                      "FROM " + s.Ref("busybox:latest") + "\nRUN echo cache-import-test > /df-step\n",
		".devcontainer/hello/devcontainer-feature.json": helloFeature,
		".devcontainer/hello/install.sh":                helloInstall,
	})
	cacheRef := s.Ref("frontend/cache:buildcache")
	export := func(o *client.SolveOpt) {
		o.CacheExports = []client.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": cacheRef, "mode": "max", "image-manifest": "true"}}}
	}
	if _, err := buildWith(t, s, ws, ".devcontainer/devcontainer.json", s.Ref("frontend/cache:1"), nil, export); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := s.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Prune(ctx, nil, client.PruneAll); err != nil {
		t.Fatal(err)
	}
	c.Close()
	imp := func(o *client.SolveOpt) {
		o.CacheImports = []client.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": cacheRef}}}
	}
	res, err := buildWith(t, s, ws, ".devcontainer/devcontainer.json", s.Ref("frontend/cache:2"), nil, imp)
	if err != nil {
		t.Fatal(err)
	}
	if res.ran("RUN echo cache-import-test") {
		t.Error("the Dockerfile's RUN ran again: cache imports not forwarded to the Dockerfile sub-solve")
	}
	if res.ran("install feature ./hello") {
		t.Error("the feature's install ran again: cache imports not forwarded")
	}
}
