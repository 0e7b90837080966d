package frontend

import (
	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/features"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/internal/policy"
	"github.com/pkg/errors"
)

// allowBuildArg lets `docker buildx build` users set the source policy
// (--build-arg DEVCACHE_ALLOW=pattern,...); the plugin sets AllowOpt.
const allowBuildArg = "DEVCACHE_ALLOW"

// sourcePolicy reads the build's source policy; nil allows everything.
func sourcePolicy(opts, buildArgs map[string]string) (*policy.Policy, error) {
	var patterns []string
	if v := opts[AllowOpt]; v != "" {
		patterns = append(patterns, v)
	}
	if v := buildArgs[allowBuildArg]; v != "" {
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

// checkPolicy refuses a Plan that uses a source the policy does not allow:
// the base image (or the Dockerfile's base), and every feature.
func checkPolicy(p *policy.Policy, pl *plan.Plan) error {
	if p.Empty() {
		return nil
	}
	if img := pl.Base.Image; img != nil && img.Ref != "" {
		kind := policy.KindImage
		if pl.Base.Kind == devcontainer.KindDockerfile {
			kind = policy.KindDockerfile
		}
		if err := p.CheckImage(kind, img.Ref); err != nil {
			return errors.Wrap(err, pl.ConfigFile)
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
