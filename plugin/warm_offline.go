package plugin

import (
	"context"
	"fmt"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/pflag"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/features"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/frontend"
)

// annotationWarmAs records, on a warmed descriptor, the reference as the
// config wrote it (a tag, normalised): what lets a build resolve that tag
// from the layout with no registry at all.
const annotationWarmAs = "dev.devcache.warm.as"

// warmStoreID names the warm layout among the session's OCI stores.
const warmStoreID = "devcache-warm"

// addWarmCacheFlag registers --base-image-cache-dir (build and push).
func addWarmCacheFlag(fs *pflag.FlagSet, o *registryOptions) {
	fs.StringVar(&o.warmDir, "base-image-cache-dir", "", "Read base images and features from this `docker devcache warm` directory (read-only) before any registry; with everything warmed, the build needs no registry")
}

// normalizedRef is ref in full form ("docker.io/library/x:latest"), or ref
// itself when it does not parse.
func normalizedRef(ref string) string {
	n, err := name.ParseReference(ref)
	if err != nil {
		return ref
	}
	return n.Name()
}

// findAs returns the warmed descriptor of a reference as written, for
// platform ("" matches descriptors without one).
func (w *warmLayout) findAs(ref, platform string) (*v1.Descriptor, bool) {
	want := normalizedRef(ref)
	for i := range w.index.Manifests {
		d := &w.index.Manifests[i]
		if d.Annotations[annotationWarmAs] == want && d.Annotations[annotationWarmPlatform] == platform && w.complete(d.Digest) {
			return d, true
		}
	}
	return nil, false
}

// warmedResolver resolves from a warm layout first: images (tag or digest)
// and OCI feature tags it holds need no registry; the features' payloads
// come from the resolve cache that warm filled. Anything else goes to the
// inner resolver.
type warmedResolver struct {
	plan.Resolver
	lay *warmLayout
}

func (r *warmedResolver) ResolveImage(ctx context.Context, ref, platform string) (*devcontainer.Image, error) {
	if d, ok := r.lay.findAs(ref, platform); ok {
		return r.lay.image(ref, platform, d)
	}
	if n, err := name.ParseReference(ref); err == nil {
		if dg, ok := n.(name.Digest); ok {
			if d, ok := r.lay.find(dg.DigestStr(), platform); ok {
				return r.lay.image(ref, platform, d)
			}
		}
	}
	return r.Resolver.ResolveImage(ctx, ref, platform)
}

func (r *warmedResolver) Resolve(ctx context.Context, ref *features.Ref, pin string) (*features.Source, error) {
	if ref.Kind == features.KindOCI && pin == "" && ref.OCI.Digest == "" && ref.OCI.Tag != "" {
		if d, ok := r.lay.findAs(featureTagRef(ref.OCI), ""); ok {
			pin = d.Digest.String()
		}
	}
	return r.Resolver.Resolve(ctx, ref, pin)
}

// featureTagRef is an OCI feature's tag reference, as warm records it.
func featureTagRef(o *features.OCIRef) string {
	return o.Registry + "/" + o.Path + ":" + o.Tag
}

// warmSolve is what a build from a warm layout adds to the solve: the
// layout as a session OCI store, the frontend told to read features from it,
// and each warmed base image as a named context.
type warmSolve struct {
	store content.Store
	attrs map[string]string
}

func (w *warmLayout) solve(plans []*plan.Plan) (*warmSolve, error) {
	store, err := local.NewStore(string(w.path))
	if err != nil {
		return nil, fmt.Errorf("--base-image-cache-dir %s: %w", w.path, err)
	}
	ws := &warmSolve{store: store, attrs: map[string]string{frontend.OCIStoreOpt: warmStoreID}}
	for _, p := range plans {
		var imgs []*devcontainer.Image
		if p.Base.Image != nil {
			imgs = append(imgs, p.Base.Image)
		}
		if df := p.Base.Dockerfile; df != nil {
			for i := range df.Images {
				imgs = append(imgs, &devcontainer.Image{Ref: df.Images[i].Ref, Digest: df.Images[i].Digest})
			}
		}
		for _, img := range imgs {
			d, ok := w.find(img.Digest, p.Platform)
			if !ok {
				continue
			}
			key := "context:" + normalizedRef(img.Ref)
			if len(plans) > 1 {
				key += "::" + p.Platform
			}
			ws.attrs[key] = "oci-layout://" + warmStoreID + "@" + d.Digest.String()
		}
	}
	return ws, nil
}
