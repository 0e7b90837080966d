package frontend

import (
	"context"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/internal/stack/stacktest"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestDaemonCannotResolveFeatureTag records why an unpinned feature tag is
// looked up from the frontend process: BuildKit (v0.34) resolves a tag
// only as an image, and a feature is an OCI artifact whose config media
// type (application/vnd.devcontainers) its image resolver refuses
// (util/imageutil/config.go, childrenConfigHandler: "encountered unknown
// type"); pulling it as an image fails as well (util/pull/pull.go,
// getLayers: the config has no rootfs), and would not tell the digest.
// When this test fails, BuildKit learned to resolve artifacts: resolve tags
// through the gateway in resolver.go instead.
func TestDaemonCannotResolveFeatureTag(t *testing.T) {
	s := stacktest.Get(t)
	src := writeTree(t, map[string]string{
		"probe/devcontainer-feature.json": `{"id": "probe", "version": "1.0.0"}`,
		"probe/install.sh":                "#!/bin/sh\n",
	})
	pub := publishToStack(t, s.Registry, src+"/probe", "frontend/features/probe", "1")
	ws := writeTree(t, map[string]string{".devcontainer/devcontainer.json": `{"image": "` + s.Ref("busybox:latest") + `"}`})
	p := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	solveWith(t, s, ws, ".devcontainer/devcontainer.json", nil, func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
		_, dgst, _, err := c.ResolveImageConfig(ctx, pub.Ref, sourceresolver.Opt{ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &p}})
		if err == nil {
			t.Errorf("the daemon resolved the feature tag to %s: switch tag resolution to the gateway", dgst)
		} else {
			t.Logf("ResolveImageConfig: %v", err)
			if !strings.Contains(err.Error(), "application/vnd.devcontainers") {
				t.Errorf("ResolveImageConfig failed for another reason than the artifact's media type: %v", err)
			}
		}
		def, err := llb.Image(pub.Ref, llb.Platform(p)).Marshal(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := c.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB(), Evaluate: true}); err == nil {
			t.Error("the daemon pulled the feature as an image")
		} else {
			t.Logf("llb.Image: %v", err)
		}
		return gateway.NewResult(), nil
	}, nil)
}

// publishToStack publishes the feature folder dir as `devcontainer features
// publish` would, to repo on the plain-HTTP registry host (the stack's),
// under tags; the Ref it returns names host.
func publishToStack(t *testing.T, host, dir, repo string, tags ...string) resolvetest.Published {
	t.Helper()
	tmp := resolvetest.StartRegistry(t)
	pub := tmp.PublishFeature(t, dir, repo, nil, tags...)
	src, err := name.ParseReference(pub.Ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags {
		dst, err := name.ParseReference(host + "/" + repo + ":" + tag)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(dst, img); err != nil {
			t.Fatal(err)
		}
	}
	pub.Ref = host + "/" + repo + ":" + tags[0]
	return pub
}
