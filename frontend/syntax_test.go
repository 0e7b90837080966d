package frontend

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve"
	"github.com/devcache/devcache/internal/frontendimage"
	"github.com/devcache/devcache/internal/stack"
	"github.com/devcache/devcache/internal/stack/stacktest"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/buildkit/frontend/dockerui"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
)

// TestSyntaxImageIsPinned checks that a user Dockerfile's "# syntax="
// frontend image is pinned in the Plan the same way on both routes, and
// that a build from the Plan runs the pinned digest even after the tag
// moved to an image that is no frontend at all.
func TestSyntaxImageIsPinned(t *testing.T) {
	s := stacktest.Get(t)
	ctx := context.Background()
	// A name BuildKit's Dockerfile frontend has, so that the Plan knows
	// what the Dockerfile reads (else the plugin would hash the whole
	// context, which the frontend cannot).
	syntax := s.Ref("frontend/docker/dockerfile:pin")
	dgst := pushDockerfileFrontend(t, s, syntax)
	ws := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json": `{"build": {"dockerfile": "Dockerfile"}, "remoteUser": "root"}`,
		".devcontainer/Dockerfile":        "# syntax=" + syntax + "\nFROM " + s.Ref("busybox:latest") + "\nRUN echo pinned > /syntax\n",
	})
	res, err := plan.ForWorkspace(ctx, ws, plan.Options{Resolver: resolve.New(resolve.Options{}), Platform: "linux/amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Plan.Base.Dockerfile.Syntax; got == nil || got.Ref != syntax || got.Digest != dgst {
		t.Fatalf("Plan syntax pin = %+v, want %s at %s", got, syntax, dgst)
	}
	if own := frontendPlan(t, s, ws, map[string]string{"platform": "linux/amd64"}); string(own.JSON()) != string(res.Plan.JSON()) {
		t.Errorf("the frontend's Plan differs from the plugin's:\nplugin:   %s\nfrontend: %s", res.Plan.JSON(), own.JSON())
	}

	// The tag moves to busybox, which cannot run as a frontend.
	moveTag(t, s.Ref("busybox:latest"), syntax)
	plans, err := json.Marshal([]*plan.Plan{res.Plan})
	if err != nil {
		t.Fatal(err)
	}
	ref := s.Ref("frontend/syntax:pinned")
	if _, err := build(t, s, ws, ".devcontainer/devcontainer.json", ref, map[string]string{PlanOpt: string(plans)}); err != nil {
		t.Fatalf("build from the Plan after the syntax tag moved: %v", err)
	}
	if _, files, _ := image(t, ref); strings.TrimSpace(files["/syntax"]) != "pinned" {
		t.Errorf("/syntax = %q", files["/syntax"])
	}
}

// frontendPlan computes the Plan the frontend makes for ws without a
// client Plan (the buildx route), for the first target platform.
func frontendPlan(t *testing.T, s *stack.Stack, ws string, attrs map[string]string) *plan.Plan {
	t.Helper()
	var got *plan.Plan
	solveWith(t, s, ws, ".devcontainer/devcontainer.json", attrs, func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
		bc, err := dockerui.NewClient(c)
		if err != nil {
			return nil, err
		}
		src, err := bc.ReadEntrypoint(ctx, "JSON")
		if err != nil {
			return nil, err
		}
		bctx := newBuildCtx(bc)
		cfg, _, err := ownConfig(ctx, bc, bctx, src)
		if err != nil {
			return nil, err
		}
		got, err = planFor(ctx, nil, cfg, newGatewayResolver(bc, bctx), bctx, bc.TargetPlatforms[0])
		if err != nil {
			return nil, err
		}
		return gateway.NewResult(), nil
	}, nil)
	if got == nil {
		t.Fatal("the frontend made no Plan")
	}
	return got
}

// moveTag points dst at the image src names (copied into dst's repository).
func moveTag(t *testing.T, src, dst string) {
	t.Helper()
	s, err := name.ParseReference(src)
	if err != nil {
		t.Fatal(err)
	}
	d, err := name.ParseReference(dst)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(d, img); err != nil {
		t.Fatal(err)
	}
}

// pushDockerfileFrontend pushes BuildKit's own Dockerfile frontend to ref
// and returns its digest.
func pushDockerfileFrontend(t *testing.T, s *stack.Stack, ref string) string {
	t.Helper()
	d, err := frontendimage.PushDockerfileFrontend(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
