package build

import (
	"context"
	"errors"
	"testing"

	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/sourcepolicy"
	spb "github.com/moby/buildkit/sourcepolicy/pb"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/internal/policy"
)

// TestSolvePolicy: the policy the plugin sends pins the Plan's tags and
// applies --allow to the pinned reference as to any other, as buildkitd's
// engine evaluates it.
func TestSolvePolicy(t *testing.T) {
	const dgst = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	plans := []*plan.Plan{{Base: plan.Base{Image: &devcontainer.Image{Ref: "alpine:3", Digest: dgst}}}}
	allow, err := policy.Parse([]string{"docker.io/library/alpine"})
	if err != nil {
		t.Fatal(err)
	}
	if solvePolicy(nil, &policy.Policy{}) != nil {
		t.Error("a policy without pins and rules")
	}
	engine := sourcepolicy.NewEngine([]*spb.Policy{solvePolicy(plans, allow)})
	op := &pb.SourceOp{Identifier: "docker-image://docker.io/library/alpine:3"}
	if mutated, err := engine.Evaluate(context.Background(), op); err != nil || !mutated || op.Identifier != "docker-image://docker.io/library/alpine:3@"+dgst {
		t.Errorf("pinned allowed image: %q, %v, %v", op.Identifier, mutated, err)
	}
	_, err = engine.Evaluate(context.Background(), &pb.SourceOp{Identifier: "docker-image://docker.io/library/ubuntu:24.04"})
	if !errors.Is(err, sourcepolicy.ErrSourceDenied) {
		t.Errorf("image outside --allow: %v", err)
	}
	if pins := solvePolicy(plans, nil); pins == nil || len(pins.Rules) != 1 {
		t.Errorf("pins without --allow: %v", pins)
	}
}
