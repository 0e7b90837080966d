package build

import (
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/plan"
)

// The Dockerfile's "# syntax=" frontend image runs at the digest the Plan
// pinned.
func TestPinPolicySyntax(t *testing.T) {
	d := "sha256:" + strings.Repeat("3", 64)
	p := testPlans()[0]
	p.Base.Dockerfile = &plan.Dockerfile{Syntax: &plan.ImagePin{Ref: "docker/dockerfile:1.7", Digest: d}}
	pol := pinPolicy([]*plan.Plan{p})
	if pol == nil {
		t.Fatal("no policy")
	}
	for _, r := range pol.Rules {
		if r.Selector.Identifier == "docker-image://docker.io/docker/dockerfile:1.7" {
			if want := "docker-image://docker.io/docker/dockerfile:1.7@" + d; r.Updates.Identifier != want {
				t.Errorf("syntax image → %s, want %s", r.Updates.Identifier, want)
			}
			return
		}
	}
	t.Errorf("no rule for the syntax image: %v", pol)
}
