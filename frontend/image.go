package frontend

import (
	"context"
	"encoding/json"

	"github.com/devcache/devcache/devcontainer"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/util/system"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
)

// imageBase resolves the config's image through the gateway (named contexts
// from --build-context first, as the Dockerfile frontend does) and returns
// its filesystem and config.
func imageBase(ctx context.Context, bc *dockerui.Client, cfg *devcontainer.Config, p ocispecs.Platform) (llb.State, *dockerspec.DockerOCIImage, error) {
	named, err := reference.ParseNormalizedNamed(cfg.Image)
	if err != nil {
		return llb.State{}, nil, errors.Wrapf(err, "%s: image: invalid reference %q", cfg.File, cfg.Image)
	}
	named = reference.TagNameOnly(named)

	nc, err := bc.NamedContext(named.String(), dockerui.ContextOpt{Platform: &p, ResolveMode: bc.ImageResolveMode.String()})
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

	resolved, dgst, dt, err := bc.GatewayClient().ResolveImageConfig(ctx, named.String(), sourceresolver.Opt{
		LogName: "[internal] load metadata for " + named.String(),
		ImageOpt: &sourceresolver.ResolveImageOpt{
			Platform:    &p,
			ResolveMode: bc.ImageResolveMode.String(),
		},
	})
	if err != nil {
		return llb.State{}, nil, errors.Wrapf(err, "%s: image: cannot resolve %q", cfg.File, cfg.Image)
	}
	var img dockerspec.DockerOCIImage
	if err := json.Unmarshal(dt, &img); err != nil {
		return llb.State{}, nil, errors.Wrapf(err, "image %s: invalid config", resolved)
	}
	pinned := resolved
	if dgst != "" {
		r, err := reference.ParseNormalizedNamed(resolved)
		if err != nil {
			return llb.State{}, nil, err
		}
		d, err := reference.WithDigest(reference.TrimNamed(r), dgst)
		if err != nil {
			return llb.State{}, nil, err
		}
		pinned = d.String()
	}
	st := llb.Image(pinned, llb.Platform(p), bc.ImageResolveMode,
		llb.WithCustomName("[devcontainer] FROM "+cfg.Image))
	return st, &img, nil
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
	def, err := st.Marshal(ctx, llb.Platform(p), llb.WithCaps(bc.BuildOpts().LLBCaps))
	if err != nil {
		return nil, errors.Wrap(err, "marshal LLB")
	}
	res, err := bc.GatewayClient().Solve(ctx, client.SolveRequest{
		Definition:   def.ToPB(),
		CacheImports: bc.CacheImports,
	})
	if err != nil {
		return nil, err
	}
	return res.SingleRef()
}
