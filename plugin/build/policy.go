package build

import (
	spb "github.com/moby/buildkit/sourcepolicy/pb"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/internal/policy"
)

// solvePolicy is the build's BuildKit source policy (client
// SolveOpt.SourcePolicy, which buildkitd applies to every solve of the
// build, the Dockerfile frontend's sub-solves and their "# syntax="
// frontend included): the digest pins of the Plans, then the --allow
// rules compiled by package policy. Pins convert a tag to tag@digest and
// buildkitd then evaluates the rules again on the pinned reference, so
// their order does not matter. nil when there is neither.
func solvePolicy(plans []*plan.Plan, allow *policy.Policy) *spb.Policy {
	pol := pinPolicy(plans)
	rules := allow.BuildKitRules()
	if len(rules) == 0 {
		return pol
	}
	if pol == nil {
		pol = &spb.Policy{Version: 1}
	}
	pol.Rules = append(pol.Rules, rules...)
	return pol
}
