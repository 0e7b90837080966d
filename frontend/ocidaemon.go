package frontend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/devcache/devcache/devcontainer/features"
	"github.com/devcache/devcache/devcontainer/payload"
	"github.com/devcache/devcache/devcontainer/resolve"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	"github.com/pkg/errors"
)

// resolvePinnedOCI resolves an OCI feature whose manifest digest is known
// (a lockfile pin, an @sha256 reference, or what tagDigest found) through
// the daemon as far as BuildKit allows: the layer, the feature's files, is
// fetched by digest with the session's credentials and the daemon's
// mirrors, and read through the gateway for its metadata and content
// digest; the manifest too where the registry serves it as a blob (see
// manifest).
func (g *gatewayResolver) resolvePinnedOCI(ctx context.Context, ref *features.Ref, manifestDigest string) (*features.Source, error) {
	caps := g.bc.BuildOpts().LLBCaps
	if err := caps.Supports(pb.CapSourceImageBlob); err != nil {
		return nil, errors.Wrapf(err, "feature %s: this BuildKit cannot fetch blobs by digest", ref.UserFeatureID)
	}
	repo := ref.OCI.Registry + "/" + ref.OCI.Path
	body, err := g.manifest(ctx, ref, manifestDigest)
	if err != nil {
		return nil, err
	}
	var m struct {
		Config struct {
			MediaType string `json:"mediaType"`
		} `json:"config"`
		Layers []struct {
			Digest string `json:"digest"`
			Size   int64  `json:"size"`
		} `json:"layers"`
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, errors.Wrapf(err, "feature %s: manifest %s", ref.UserFeatureID, manifestDigest)
	}
	if m.Config.MediaType != resolve.FeatureConfigMediaType || len(m.Layers) == 0 {
		return nil, errors.Errorf("feature %s: %s@%s is not a dev container feature", ref.UserFeatureID, repo, manifestDigest)
	}
	layer := m.Layers[0]
	src := &features.Source{Ref: ref, ManifestDigest: manifestDigest, LayerDigest: layer.Digest, LayerSize: layer.Size}
	files, err := g.blobRef(ctx, repo+"@"+layer.Digest, true)
	if err != nil {
		return nil, errors.Wrapf(err, "feature %s: layer %s", ref.UserFeatureID, layer.Digest)
	}
	// The content digest as the plugin computes it from the same layer
	// (payload.ReadArchive), so both routes make the same Plan.
	tree, err := readTree(ctx, files, ".")
	if err != nil {
		return nil, errors.Wrapf(err, "feature %s: layer %s", ref.UserFeatureID, layer.Digest)
	}
	src.ContentDigest = tree.Digest()
	if f, ok := tree.Get(features.MetadataFile); ok && f.Type == payload.TypeFile {
		if src.PayloadMetadata, err = features.ParseMetadataJSON(ref.UserFeatureID+": "+features.MetadataFile, f.Data); err != nil {
			return nil, err
		}
	}
	src.DepMetadata = src.PayloadMetadata
	if ann := m.Annotations[resolve.MetadataAnnotation]; ann != "" {
		if src.DepMetadata, err = features.ParseMetadataJSON(ref.UserFeatureID+": manifest annotation "+resolve.MetadataAnnotation, []byte(ann)); err != nil {
			return nil, err
		}
	}
	return src, nil
}

// manifest reads a feature's manifest by digest: through the daemon as a
// blob where the registry serves manifests at the blob endpoint (BuildKit's
// blob source asks for no media type: source/containerblob/blobfetch and
// containerd's FetchByDigest send "Accept: */*", which CNCF distribution
// answers with 404 for an OCI manifest), else from the frontend process,
// anonymously. Either way the bytes must have the digest.
func (g *gatewayResolver) manifest(ctx context.Context, ref *features.Ref, manifestDigest string) ([]byte, error) {
	repo := ref.OCI.Registry + "/" + ref.OCI.Path
	body, daemonErr := g.readBlob(ctx, repo+"@"+manifestDigest)
	if daemonErr != nil {
		var err error
		if body, err = fetchManifest(ctx, repo, manifestDigest); err != nil {
			return nil, errors.Errorf("feature %s: manifest %s: through the builder: %v; from the frontend (anonymously, without the builder's mirrors): %v",
				ref.UserFeatureID, manifestDigest, daemonErr, err)
		}
	}
	sum := sha256.Sum256(body)
	if "sha256:"+hex.EncodeToString(sum[:]) != manifestDigest {
		return nil, fmt.Errorf("Digest did not match for %s.", ref.OCI.Resource)
	}
	return body, nil
}

// readBlob fetches a blob by digest through the daemon and reads it.
func (g *gatewayResolver) readBlob(ctx context.Context, ref string) ([]byte, error) {
	r, err := g.blobRef(ctx, ref, false)
	if err != nil {
		return nil, err
	}
	return r.ReadFile(ctx, client.ReadRequest{Filename: payloadFile})
}

// blobRef fetches a blob by digest through the daemon (or from the
// client's OCI store) as payloadFile, or (unpack) unpacked, with the LLB
// the build uses for a feature's payload, so the build reuses it.
func (g *gatewayResolver) blobRef(ctx context.Context, ref string, unpack bool) (client.Reference, error) {
	st := llb.ImageBlob(ref, llb.Filename(payloadFile), llb.WithCustomName("[devcontainer] fetch "+ref))
	if g.bctx.ociStore != "" {
		st = llb.OCILayoutBlob(ref, llb.ImageBlobOCIStore(g.bctx.sessionID, g.bctx.ociStore), llb.Filename(payloadFile),
			llb.WithCustomName("[devcontainer] read "+ref))
	}
	if unpack {
		st = llb.Scratch().File(llb.Copy(st, "/"+payloadFile, "/", &llb.CopyInfo{AttemptUnpack: true, CreateDestPath: true}))
	}
	def, err := st.Marshal(ctx, llb.WithCaps(g.bc.BuildOpts().LLBCaps))
	if err != nil {
		return nil, err
	}
	res, err := g.bc.GatewayClient().Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, err
	}
	return res.SingleRef()
}
