package frontend

import (
	"context"

	"github.com/devcache/devcache/devcontainer/features"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/internal/policy"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	spb "github.com/moby/buildkit/sourcepolicy/pb"
	digest "github.com/opencontainers/go-digest"
	"github.com/pkg/errors"
)

// allowBuildArg lets `docker buildx build` users set the source policy
// (--build-arg DEVCACHE_ALLOW=pattern,...); the plugin sets AllowOpt.
const allowBuildArg = "DEVCACHE_ALLOW"

// sourcePolicy reads the build's source policy from the frontend options
// (AllowOpt and the build arg); nil allows everything.
func sourcePolicy(opts map[string]string) (*policy.Policy, error) {
	var patterns []string
	if v := opts[AllowOpt]; v != "" {
		patterns = append(patterns, v)
	}
	if v := opts["build-arg:"+allowBuildArg]; v != "" {
		patterns = append(patterns, v)
	}
	if len(patterns) == 0 {
		return nil, nil
	}
	p, err := policy.Parse(patterns)
	if err != nil {
		return nil, errors.Wrap(err, "source policy")
	}
	return p, nil
}

// policyClient sends the compiled source policy with every solve and
// metadata resolution the frontend makes, so that buildkitd refuses a
// source the policy does not allow wherever it appears: the base image,
// feature blobs and URLs, and every source in the LLB a Dockerfile
// sub-solve returns (all its stages, FROM $ARG expanded), which the final
// solve loads. buildkitd's refusal comes back as an error naming the rule.
type policyClient struct {
	client.Client
	allow *policy.Policy
	rules *spb.Policy
}

// withPolicy wraps c when the build has a source policy. A daemon that
// cannot enforce one fails the build rather than ignoring the policy.
func withPolicy(c client.Client, allow *policy.Policy) (client.Client, error) {
	if allow.Empty() {
		return c, nil
	}
	caps := c.BuildOpts().LLBCaps
	if err := caps.Supports(pb.CapSourcePolicy); err != nil {
		return nil, errors.Wrapf(err, "source policy (%s, --allow): this BuildKit cannot enforce it; use BuildKit v0.12 or later", AllowOpt)
	}
	return &policyClient{Client: c, allow: allow, rules: allow.SourcePolicy()}, nil
}

func (c *policyClient) Solve(ctx context.Context, req client.SolveRequest) (*client.Result, error) {
	req.SourcePolicies = append(req.SourcePolicies, c.rules)
	res, err := c.Client.Solve(ctx, req)
	return res, c.allow.Explain(err)
}

func (c *policyClient) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	opt.SourcePolicies = append(opt.SourcePolicies, c.rules)
	r, d, dt, err := c.Client.ResolveImageConfig(ctx, ref, opt)
	return r, d, dt, c.allow.Explain(err)
}

func (c *policyClient) ResolveSourceMetadata(ctx context.Context, op *pb.SourceOp, opt sourceresolver.Opt) (*sourceresolver.MetaResponse, error) {
	opt.SourcePolicies = append(opt.SourcePolicies, c.rules)
	res, err := c.Client.ResolveSourceMetadata(ctx, op, opt)
	return res, c.allow.Explain(err)
}

// checkPolicy fails early, with the reference as the config wrote it, for
// a Plan source the policy refuses: the base image, the Dockerfile's
// "# syntax=" frontend (which the Dockerfile sub-solve runs before any
// policy the frontend sends reaches it) and every feature. It evaluates
// the same compiled policy buildkitd enforces.
func checkPolicy(p *policy.Policy, pl *plan.Plan) error {
	if p.Empty() {
		return nil
	}
	if img := pl.Base.Image; img != nil && img.Ref != "" {
		kind := policy.KindImage
		if pl.Base.Dockerfile != nil {
			kind = policy.KindDockerfile
		}
		if err := p.CheckImage(kind, img.Ref); err != nil {
			return errors.Wrap(err, pl.ConfigFile)
		}
	}
	if df := pl.Base.Dockerfile; df != nil {
		ref, _, _, _ := parser.DetectSyntax([]byte(df.Content))
		if df.Syntax != nil {
			ref = df.Syntax.Ref // also a BUILDKIT_SYNTAX build arg
		}
		if ref != "" {
			if err := p.CheckImage(policy.KindSyntax, ref); err != nil {
				return errors.Wrapf(err, "%s: build.dockerfile %s", pl.ConfigFile, df.Path)
			}
		}
	}
	for _, f := range pl.Features {
		source := f.Source.Repository
		if f.Source.Kind == features.KindTarball {
			source = f.Source.URL
		}
		if err := p.CheckFeature(f.UserFeatureID, source, f.Source.Kind == features.KindLocal); err != nil {
			return errors.Wrap(err, pl.ConfigFile)
		}
	}
	return nil
}
