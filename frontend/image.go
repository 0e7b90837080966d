package frontend

import (
	"context"

	"github.com/containerd/platforms"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/util/system"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
)

// imageBase returns the base image of an image config: a named context from
// --build-context when one replaces it (as with the Dockerfile frontend),
// else the Plan's pinned image, whose config is read through the gateway.
func imageBase(ctx context.Context, bc *dockerui.Client, g *gatewayResolver, pl *plan.Plan, p ocispecs.Platform) (llb.State, *dockerspec.DockerOCIImage, error) {
	bi := pl.Base.Image
	named, err := normalizeImage(bi.Ref)
	if err != nil {
		return llb.State{}, nil, err
	}
	nc, err := bc.NamedContext(named, dockerui.ContextOpt{Platform: &p, ResolveMode: bc.ImageResolveMode.String()})
	if err != nil {
		return llb.State{}, nil, err
	}
	if nc != nil {
		st, img, err := nc.Load(ctx)
		if err != nil {
			return llb.State{}, nil, err
		}
		if img == nil {
			img = emptyImage(p)
		}
		return st.Platform(p), img, nil
	}
	ref := named
	if bi.Digest != "" {
		if ref, err = pinImage(named, bi.Digest); err != nil {
			return llb.State{}, nil, err
		}
	}
	ri, err := g.image(ctx, ref, platforms.Format(p))
	if err != nil {
		return llb.State{}, nil, errors.Wrapf(err, "image %s", bi.Ref)
	}
	st := llb.Image(ri.pinned, llb.Platform(p), llb.WithCustomName("[devcontainer] FROM "+bi.Ref))
	return st, ri.config, nil
}

// normalizeImage is ref in its full form with a default tag.
func normalizeImage(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", errors.Wrapf(err, "invalid image reference %q", ref)
	}
	return reference.TagNameOnly(named).String(), nil
}

// pinImage is ref's repository at digest.
func pinImage(ref, digest string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", err
	}
	d, err := reference.WithDigest(reference.TrimNamed(named), digestOf(digest))
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

func emptyImage(p ocispecs.Platform) *dockerspec.DockerOCIImage {
	img := &dockerspec.DockerOCIImage{}
	img.Architecture = p.Architecture
	img.OS = p.OS
	img.Variant = p.Variant
	img.RootFS.Type = "layers"
	img.Config.Env = []string{"PATH=" + system.DefaultPathEnvUnix}
	return img
}

// solve marshals st for platform p and solves it, forwarding the build's
// cache imports so --cache-from works for every step.
func solve(ctx context.Context, bc *dockerui.Client, st llb.State, p ocispecs.Platform) (client.Reference, error) {
	opts := []llb.ConstraintsOpt{llb.Platform(p), llb.WithCaps(bc.BuildOpts().LLBCaps)}
	if bc.IsNoCache("") {
		// --no-cache (push --max-age's rebuild): every step runs again and
		// the base image is resolved and pulled again.
		opts = append(opts, llb.IgnoreCache)
	}
	def, err := st.Marshal(ctx, opts...)
	if err != nil {
		return nil, errors.Wrap(err, "marshal LLB")
	}
	res, err := bc.GatewayClient().Solve(ctx, client.SolveRequest{
		Definition:   def.ToPB(),
		CacheImports: bc.CacheImports,
		// Evaluated here so that a failing step's error can be attributed
		// to its feature (featureError) instead of surfacing at export.
		Evaluate: true,
	})
	if err != nil {
		return nil, err
	}
	return res.SingleRef()
}
