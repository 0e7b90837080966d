package build

import (
	"fmt"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins/content/local"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/frontend"
	"github.com/devcache/devcache/plugin/warm"
)

// warmStoreID names the warm layout among the session's OCI stores.
const warmStoreID = "devcache-warm"

// warmInputs is what a build from a warm layout adds to the solve: the
// layout as a session OCI store, the frontend told to read features from it,
// and each warmed base image as a named context.
type warmInputs struct {
	store content.Store
	attrs map[string]string
}

func warmSolve(w *warm.Layout, plans []*plan.Plan) (*warmInputs, error) {
	store, err := local.NewStore(w.Dir())
	if err != nil {
		return nil, fmt.Errorf("--base-image-cache-dir %s: %w", w.Dir(), err)
	}
	ws := &warmInputs{store: store, attrs: map[string]string{frontend.OCIStoreOpt: warmStoreID}}
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
			d, ok := w.Find(img.Digest, p.Platform)
			if !ok {
				continue
			}
			key := "context:" + warm.NormalizedRef(img.Ref)
			if len(plans) > 1 {
				key += "::" + p.Platform
			}
			ws.attrs[key] = "oci-layout://" + warmStoreID + "@" + d.Digest.String()
		}
	}
	return ws, nil
}
