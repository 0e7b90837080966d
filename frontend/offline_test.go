package frontend

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve"
	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/internal/stack/stacktest"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/buildkit/client"
)

// TestOfflineFromOCILayout builds with every source read from an OCI
// layout directory the client attaches (what `docker devcache warm`
// fills): the base image through a named context and an OCI feature through
// OCIStoreOpt, with the feature's registry gone and the base's tag unknown
// to any registry.
func TestOfflineFromOCILayout(t *testing.T) {
	s := stacktest.Get(t)
	ctx := context.Background()
	reg := resolvetest.StartRegistry(t)
	src := writeTree(t, map[string]string{
		"hello/devcontainer-feature.json": helloFeature,
		"hello/install.sh":                helloInstall,
	})
	pub := reg.PublishFeature(t, filepath.Join(src, "hello"), "features/hello", nil, "1")
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json": `{"image": "` + s.Ref("busybox:latest") + `", "features": {"` + pub.Ref + `": {"greeting": "offline"}}}`,
	})
	res, err := plan.ForWorkspace(ctx, ws, plan.Options{Resolver: resolve.New(resolve.Options{}), Platform: "linux/amd64"})
	if err != nil {
		t.Fatal(err)
	}
	plans, _ := json.Marshal([]*plan.Plan{res.Plan})

	// The layout: the base image and the feature artifact, by digest.
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{s.Ref("busybox:latest"), pub.Ref} {
		r, _ := name.ParseReference(ref)
		img, err := remote.Image(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := lp.AppendImage(img); err != nil {
			t.Fatal(err)
		}
	}
	reg.Close() // the feature's registry is gone from here on
	store, err := local.NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	baseDigest := res.Plan.Base.Image.Digest
	named, _ := normalizeImage(s.Ref("busybox:latest"))
	attrs := map[string]string{
		PlanOpt:            string(plans),
		OCIStoreOpt:        "devcache-warm",
		"context:" + named: "oci-layout://devcache-warm@" + baseDigest,
	}
	ref := s.Ref("frontend/offline:1")
	_, err = buildWith(t, s, ws, ".devcontainer/devcontainer.json", ref, attrs, func(o *client.SolveOpt) {
		o.OCIStores = map[string]content.Store{"devcache-warm": store}
	})
	if err != nil {
		t.Fatal(err)
	}
	_, files, _ := image(t, ref)
	if !strings.HasPrefix(files["/opt/hello/out"], "greeting=offline ") {
		t.Errorf("/opt/hello/out = %q", files["/opt/hello/out"])
	}
}
