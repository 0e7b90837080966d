package resolve

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/devcontainer"
)

// ResolveImage pins an image reference for a platform ("os/arch[/variant]")
// and reads its config.
func (c *Client) ResolveImage(ctx context.Context, ref, platform string) (*devcontainer.Image, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", ref, err)
	}
	p, err := v1.ParsePlatform(platform)
	if err != nil {
		return nil, fmt.Errorf("platform %q: %w", platform, err)
	}
	desc, err := remote.Get(r, append(c.remoteOptions(ctx), remote.WithPlatform(*p))...)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("image %s for %s: %w", ref, platform, err)
	}
	md, err := img.Digest()
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image %s config: %w", ref, err)
	}
	out := &devcontainer.Image{Ref: ref, Digest: desc.Digest.String(), ManifestDigest: md.String(), Platform: platform,
		User: cf.Config.User, Env: cf.Config.Env, Labels: cf.Config.Labels, OnBuild: cf.Config.OnBuild}
	if out.Platform == "" {
		out.Platform = strings.Join([]string{cf.OS, cf.Architecture}, "/")
	}
	return out, nil
}
