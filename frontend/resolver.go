package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"sync"

	"github.com/containerd/platforms"
	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/features"
	"github.com/devcache/devcache/devcontainer/resolve"
	"github.com/devcache/devcache/internal/policy"
	"github.com/devcache/devcache/internal/retry"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/pkg/errors"
)

// gatewayResolver resolves what a build needs when no client handed the
// frontend a Plan: images through the BuildKit gateway (the session's
// credentials, the daemon's mirrors), local features from the build
// context, OCI features by digest through the daemon (tagDigest says why
// an unpinned tag is the exception), and tarball features through the
// daemon too (downloadTarball), extracted by package resolve.
type gatewayResolver struct {
	bc     *dockerui.Client
	bctx   *buildCtx
	remote *resolve.Client
	// allow is the build's source policy, checked before a feature is
	// fetched (nil allows everything).
	allow *policy.Policy

	mu     sync.Mutex
	images map[string]*resolvedImage
}

// resolvedImage is a base image pinned through the gateway, with its full
// config.
type resolvedImage struct {
	pinned string // repo@digest
	config *dockerspec.DockerOCIImage
	info   *devcontainer.Image
}

// remoteOptions configures the frontend's own registry access: anonymous,
// no disk cache (a variable so tests can trust their servers). Tarball
// features do not use its HTTP client: newGatewayResolver downloads them
// through the daemon.
var remoteOptions = func() resolve.Options {
	return resolve.Options{Keychain: authn.NewMultiKeychain()}
}

func newGatewayResolver(bc *dockerui.Client, bctx *buildCtx) *gatewayResolver {
	g := &gatewayResolver{bc: bc, bctx: bctx, images: map[string]*resolvedImage{}}
	o := remoteOptions()
	o.Download = g.downloadTarball
	g.remote = resolve.New(o)
	return g
}

// Resolve implements features.Resolver.
func (g *gatewayResolver) Resolve(ctx context.Context, ref *features.Ref, pin string) (*features.Source, error) {
	if err := g.allow.CheckFeatureRef(ref); err != nil {
		return nil, err
	}
	switch ref.Kind {
	case features.KindOCI:
		d := pinOrDigest(ref, pin)
		if d == "" {
			var err error
			if d, err = tagDigest(ctx, ref); err != nil {
				return nil, err
			}
		}
		return g.resolvePinnedOCI(ctx, ref, d)
	case features.KindTarball:
		return g.remote.Resolve(ctx, ref, pin)
	}
	rel, err := insideContextPath(ref.LocalPath)
	if err != nil {
		return nil, errors.Wrapf(err, "local feature %s", ref.UserFeatureID)
	}
	metaPath := path.Join(rel, features.MetadataFile)
	r, err := g.bctx.readFiles(ctx, "load feature "+ref.UserFeatureID, []string{rel})
	if err != nil {
		return nil, err
	}
	data, err := r.ReadFile(ctx, client.ReadRequest{Filename: metaPath})
	if err != nil {
		return nil, fmt.Errorf("local feature %s has no %s (is the path right?)", ref.UserFeatureID, features.MetadataFile)
	}
	// The content digest pins the folder as the plugin's does
	// (payload.ReadDir), so both routes make the same Plan.
	tree, err := readTree(ctx, r, rel)
	if err != nil {
		return nil, errors.Wrapf(err, "local feature %s", ref.UserFeatureID)
	}
	src := &features.Source{Ref: ref, ContentDigest: tree.Digest()}
	file := ref.UserFeatureID + "/" + features.MetadataFile
	if strings.TrimSpace(string(data)) != "" {
		if src.DepMetadata, err = features.ParseMetadataJSON(file, data); err != nil {
			return nil, err
		}
	}
	if src.PayloadMetadata, err = features.ParseMetadataJSON(file, data); err != nil {
		return nil, err
	}
	return src, nil
}

// pinOrDigest is the manifest digest a feature is pinned to: the
// lockfile's, or the digest in the reference.
func pinOrDigest(ref *features.Ref, pin string) string {
	if pin != "" {
		return pin
	}
	if ref.OCI != nil {
		return ref.OCI.Digest
	}
	return ""
}

// ResolveImage implements plan.Resolver through the gateway.
func (g *gatewayResolver) ResolveImage(ctx context.Context, ref, platform string) (*devcontainer.Image, error) {
	ri, err := g.image(ctx, ref, platform)
	if err != nil {
		return nil, err
	}
	return ri.info, nil
}

// image pins ref for platform and reads its config, once per build.
func (g *gatewayResolver) image(ctx context.Context, ref, platform string) (*resolvedImage, error) {
	key := ref + " " + platform
	g.mu.Lock()
	ri, ok := g.images[key]
	g.mu.Unlock()
	if ok {
		return ri, nil
	}
	p, err := platforms.Parse(platform)
	if err != nil {
		return nil, err
	}
	named, err := normalizeImage(ref)
	if err != nil {
		return nil, err
	}
	// A named context (--build-context) replaces the image, as for FROM.
	nc, err := g.bc.NamedContext(named, dockerui.ContextOpt{Platform: &p, ResolveMode: g.bc.ImageResolveMode.String()})
	if err != nil {
		return nil, err
	}
	if nc != nil {
		_, img, err := nc.Load(ctx)
		if err != nil {
			return nil, err
		}
		if img == nil {
			img = emptyImage(p)
		}
		ri = &resolvedImage{config: img, info: &devcontainer.Image{
			Ref: ref, Platform: platform, User: img.Config.User, Env: img.Config.Env, Labels: img.Config.Labels, OnBuild: img.Config.OnBuild,
		}}
		g.mu.Lock()
		g.images[key] = ri
		g.mu.Unlock()
		return ri, nil
	}
	resolved, dgst, dt, err := g.bc.GatewayClient().ResolveImageConfig(ctx, named, sourceresolver.Opt{
		LogName:  "[internal] load metadata for " + named,
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &p, ResolveMode: g.bc.ImageResolveMode.String()},
	})
	if err != nil {
		return nil, err
	}
	var img dockerspec.DockerOCIImage
	if err := json.Unmarshal(dt, &img); err != nil {
		return nil, errors.Wrapf(err, "image %s: invalid config", resolved)
	}
	pinned, err := pinImage(resolved, dgst.String())
	if err != nil {
		return nil, err
	}
	ri = &resolvedImage{pinned: pinned, config: &img, info: &devcontainer.Image{
		Ref: ref, Digest: dgst.String(), ManifestDigest: dgst.String(), Platform: platform,
		User: img.Config.User, Env: img.Config.Env, Labels: img.Config.Labels, OnBuild: img.Config.OnBuild,
	}}
	g.mu.Lock()
	g.images[key] = ri
	g.mu.Unlock()
	return ri, nil
}

// insideContextPath turns a path resolved against the virtual context root
// into one relative to the build context.
func insideContextPath(p string) (string, error) {
	rel, ok := strings.CutPrefix(path.Clean(p), virtualRoot)
	if !ok || (rel != "" && !strings.HasPrefix(rel, "/")) {
		return "", errors.Errorf("%s is outside the build context", p)
	}
	rel = strings.TrimPrefix(rel, "/")
	if rel == "" {
		rel = "."
	}
	return rel, nil
}

// tagDigest looks up the manifest digest an unpinned OCI feature tag points
// to, with one anonymous HEAD (or GET) from the frontend process: the
// only request for a feature that does not go through the daemon.
// BuildKit v0.34 cannot resolve an artifact's tag (its image resolver
// refuses the config media type application/vnd.devcontainers; see
// TestDaemonCannotResolveFeatureTag), and a frontend can reach neither the
// session's credentials nor the daemon's registry configuration. The
// manifest and the payload are then fetched by digest through the daemon,
// which checks them against it.
func tagDigest(ctx context.Context, ref *features.Ref) (string, error) {
	tag, err := name.NewTag(ref.OCI.Registry+"/"+ref.OCI.Path+":"+ref.OCI.Tag, name.WeakValidation)
	if err != nil {
		return "", errors.Wrapf(err, "feature %s", ref.UserFeatureID)
	}
	opts := ownRegistryOptions(ctx)
	if desc, err := remote.Head(tag, opts...); err == nil {
		return desc.Digest.String(), nil
	}
	desc, err := remote.Get(tag, opts...)
	if err != nil {
		return "", errors.Wrapf(err, "feature %s: looking up tag %s from the frontend, anonymously and without the builder's registry mirrors "+
			"(BuildKit cannot resolve a feature tag itself); pin it with `docker devcache lock` (then it is fetched through the builder, "+
			"with its mirrors and your credentials) or build with `docker devcache build`", ref.UserFeatureID, tag)
	}
	return desc.Digest.String(), nil
}

// fetchManifest GETs a manifest by digest from the frontend process,
// anonymously (see manifest in ocidaemon.go for when).
func fetchManifest(ctx context.Context, repo, manifestDigest string) ([]byte, error) {
	d, err := name.NewDigest(repo+"@"+manifestDigest, name.WeakValidation)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(d, ownRegistryOptions(ctx)...)
	if err != nil {
		return nil, err
	}
	return desc.Manifest, nil
}

// ownRegistryOptions are the frontend process's own registry access:
// remoteOptions (anonymous).
func ownRegistryOptions(ctx context.Context) []remote.Option {
	o := remoteOptions()
	tr := o.Transport
	if tr == nil {
		tr = remote.DefaultTransport
	}
	return append(retry.RemoteOptions(), remote.WithContext(ctx), remote.WithAuthFromKeychain(o.Keychain), remote.WithTransport(retry.Default.Transport(tr)))
}
