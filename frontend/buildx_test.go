package frontend

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/internal/stack/stacktest"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/client"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/tonistiigi/fsutil"
)

// TestNamedContextReplacesBase checks --build-context for the config's
// image (buildx sends context:<ref>=docker-image://other), as the
// Dockerfile frontend honours it for FROM.
func TestNamedContextReplacesBase(t *testing.T) {
	s := stacktest.Get(t)
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json": `{"image": "example.invalid/not/pullable:1"}`,
	})
	ref := s.Ref("frontend/named-context:1")
	attrs := map[string]string{"context:example.invalid/not/pullable:1": "docker-image://" + s.Ref("busybox:latest")}
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, attrs); err != nil {
		t.Fatal(err)
	}
	_, files, _ := image(t, ref)
	if _, ok := files["/bin/busybox"]; !ok {
		t.Error("the named context did not replace the base image")
	}
}

// TestSourceDateEpoch checks that SOURCE_DATE_EPOCH (a build arg, as
// buildx passes it) dates the image and every history entry devcache adds.
func TestSourceDateEpoch(t *testing.T) {
	s := stacktest.Get(t)
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json":               `{"image": "` + s.Ref("busybox:latest") + `", "features": {"./hello": {}}, "remoteUser": "root"}`,
		".devcontainer/hello/devcontainer-feature.json": helloFeature,
		".devcontainer/hello/install.sh":                helloInstall,
	})
	ref := s.Ref("frontend/epoch:1")
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, map[string]string{"build-arg:SOURCE_DATE_EPOCH": "1700000000"}); err != nil {
		t.Fatal(err)
	}
	cfg, _, _ := image(t, ref)
	want := time.Unix(1700000000, 0).UTC()
	if !cfg.Created.Time.Equal(want) {
		t.Errorf("created = %v, want %v", cfg.Created.Time, want)
	}
	n := 0
	for _, h := range cfg.History {
		if h.Comment == "devcache" {
			n++
			if !h.Created.Time.Equal(want) {
				t.Errorf("history %q created %v, want %v", h.CreatedBy, h.Created.Time, want)
			}
		}
	}
	if n == 0 {
		t.Error("no history entries from devcache")
	}
	if !slices.ContainsFunc(cfg.History, func(h v1.History) bool { return strings.HasPrefix(h.CreatedBy, "LABEL devcontainer.metadata=") }) {
		t.Error("no history entry for the label")
	}
}

// TestSourcePolicy checks that the frontend refuses a base image and a
// feature the allowlist does not name, and builds when it does.
func TestSourcePolicy(t *testing.T) {
	s := stacktest.Get(t)
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json":               `{"image": "` + s.Ref("busybox:latest") + `", "features": {"./hello": {}}}`,
		".devcontainer/hello/devcontainer-feature.json": helloFeature,
		".devcontainer/hello/install.sh":                helloInstall,
	})
	_, err := build(t, s, ws, ".devcontainer/devcontainer.json", s.Ref("frontend/policy:refused"),
		map[string]string{AllowOpt: "registry.example.com/**"})
	if err == nil || !strings.Contains(err.Error(), "source policy") || !strings.Contains(err.Error(), s.Ref("busybox:latest")) {
		t.Errorf("base image not refused with a clear error: %v", err)
	}
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", s.Ref("frontend/policy:allowed"),
		map[string]string{"build-arg:DEVCACHE_ALLOW": s.Registry + "/busybox"}); err != nil {
		t.Errorf("allowed build failed: %v", err)
	}
}

// TestSourcePolicyRefusesFeature checks that an OCI feature outside the
// allowlist is refused, naming the feature and the rule.
func TestSourcePolicyRefusesFeature(t *testing.T) {
	s := stacktest.Get(t)
	reg := resolvetest.StartRegistry(t)
	src := writeTree(t, map[string]string{
		"hello/devcontainer-feature.json": helloFeature,
		"hello/install.sh":                helloInstall,
	})
	pub := reg.PublishFeature(t, filepath.Join(src, "hello"), "features/hello", nil, "1")
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json": `{"image": "` + s.Ref("busybox:latest") + `", "features": {"` + pub.Ref + `": {}}}`,
	})
	_, err := build(t, s, ws, ".devcontainer/devcontainer.json", s.Ref("frontend/policy:feature"),
		map[string]string{AllowOpt: s.Registry + "/**"})
	if err == nil || !strings.Contains(err.Error(), "feature") || !strings.Contains(err.Error(), pub.Ref) {
		t.Errorf("feature not refused with a clear error: %v", err)
	}
}

// TestCallTargets answers --call targets (the subrequest buildx sends).
func TestCallTargets(t *testing.T) {
	s := stacktest.Get(t)
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json": `{"name": "My env", "image": "` + s.Ref("busybox:latest") + `"}`,
	})
	ctx := context.Background()
	c, err := s.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dfFS, err := fsutil.NewFS(filepath.Join(ws, ".devcontainer"))
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string][]byte
	_, err = c.Build(ctx, client.SolveOpt{
		FrontendAttrs: map[string]string{"filename": "devcontainer.json", "requestid": "frontend.targets"},
		LocalMounts:   map[string]fsutil.FS{"dockerfile": dfFS, "context": dfFS},
	}, "", func(ctx context.Context, gc gwclient.Client) (*gwclient.Result, error) {
		res, err := Build(ctx, gc)
		if res != nil {
			meta = res.Metadata
		}
		return res, err
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out := string(meta["result.txt"]); !strings.Contains(out, "devcontainer") || !strings.Contains(out, "My env") {
		t.Errorf("targets = %q", out)
	}
}
