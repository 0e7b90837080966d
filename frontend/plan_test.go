package frontend

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve"
	"github.com/devcache/devcache/internal/stack/stacktest"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestClientPlanIsBuiltAsIs checks that a Plan handed over by the client
// is what gets built: the same image as the frontend's own resolution, and
// the base digest the Plan pinned even after the tag moved.
func TestClientPlanIsBuiltAsIs(t *testing.T) {
	s := stacktest.Get(t)
	ctx := context.Background()
	// A base tag of our own that the test can move.
	movable := s.Ref("frontend/movable-base:1")
	src, err := name.ParseReference(s.Ref("busybox:latest"))
	if err != nil {
		t.Fatal(err)
	}
	dst, _ := name.ParseReference(movable)
	busybox, err := remote.Image(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(dst, busybox); err != nil {
		t.Fatal(err)
	}
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json":               `{"image": "` + movable + `", "features": {"./hello": {"greeting": "planned"}}, "remoteUser": "root"}`,
		".devcontainer/hello/devcontainer-feature.json": helloFeature,
		".devcontainer/hello/install.sh":                helloInstall,
	})
	res, err := plan.ForWorkspace(ctx, ws, plan.Options{Resolver: resolve.New(resolve.Options{}), Platform: "linux/amd64"})
	if err != nil {
		t.Fatal(err)
	}
	plans, err := json.Marshal([]*plan.Plan{res.Plan})
	if err != nil {
		t.Fatal(err)
	}

	// Same image with and without the client's Plan.
	own := s.Ref("frontend/plan:own")
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", own, nil); err != nil {
		t.Fatal(err)
	}
	planned := s.Ref("frontend/plan:client")
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", planned, map[string]string{PlanOpt: string(plans)}); err != nil {
		t.Fatal(err)
	}
	ownCfg, _, _ := image(t, own)
	planCfg, files, _ := image(t, planned)
	if ownCfg.Config.Labels["devcontainer.metadata"] != planCfg.Config.Labels["devcontainer.metadata"] {
		t.Errorf("labels differ: own %s, client plan %s", ownCfg.Config.Labels["devcontainer.metadata"], planCfg.Config.Labels["devcontainer.metadata"])
	}
	if _, ok := files["/bin/busybox"]; !ok {
		t.Errorf("no /bin/busybox in the planned image; files: %d", len(files))
	}
	if files["/opt/hello/out"] == "" {
		t.Error("the planned feature did not run")
	}

	// Move the tag to another image: a build from the Plan still uses the
	// pinned base.
	other, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := other.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	moved, err := mutate.ConfigFile(other, cf)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(dst, moved); err != nil {
		t.Fatal(err)
	}
	again := s.Ref("frontend/plan:after-move")
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", again, map[string]string{PlanOpt: string(plans)}); err != nil {
		t.Fatal(err)
	}
	_, files, _ = image(t, again)
	if _, ok := files["/bin/busybox"]; !ok {
		t.Error("the build used the moved tag, not the base digest pinned in the client's Plan")
	}
}
