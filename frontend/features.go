package frontend

import (
	"path"

	"github.com/devcache/devcache/devcontainer/features"
	"github.com/devcache/devcache/devcontainer/payload"
	"github.com/devcache/devcache/devcontainer/plan"
	devllb "github.com/devcache/devcache/llb"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"github.com/pkg/errors"
)

// payloadFile is the name feature archives are fetched under before they
// are unpacked.
const payloadFile = "feature.tgz"

// inlinePayload returns a feature's files when the frontend already holds
// them (a tarball it downloaded while resolving, or one the client passed
// with PayloadOptPrefix); nil otherwise.
type inlinePayload func(f plan.Feature) *payload.Tree

// featureSet turns the Plan's features into what package llb installs:
// each feature's payload as an LLB state pinned by content.
func featureSet(pl *plan.Plan, bctx *buildCtx, caps *pbCaps, inline inlinePayload) (devllb.FeatureSet, error) {
	fs := devllb.FeatureSet{
		BuiltinEnv:  pl.BuiltinEnv,
		HomesScript: pl.HomesScript,
		ImageUser:   pl.ImageUser,
	}
	for _, kv := range pl.ContainerEnv {
		fs.ConfigEnv = append(fs.ConfigEnv, devllb.EnvVar{Name: kv.Name, Value: kv.Value})
	}
	for _, f := range pl.Features {
		var st llb.State
		if t := inline(f); t != nil {
			st = devllb.TreeState(t, "[devcontainer] feature files "+f.UserFeatureID)
		} else {
			var err error
			if st, err = featurePayload(f, bctx, caps); err != nil {
				return devllb.FeatureSet{}, err
			}
		}
		fi := devllb.FeatureInstall{
			Dir:     f.ConsecutiveID,
			Name:    f.UserFeatureID,
			Payload: st,
			EnvFile: []byte(f.EnvFile),
			Wrapper: []byte(f.Wrapper),
		}
		for _, kv := range f.ContainerEnv {
			fi.ContainerEnv = append(fi.ContainerEnv, devllb.EnvVar{Name: kv.Name, Value: kv.Value})
		}
		fs.Features = append(fs.Features, fi)
	}
	return fs, nil
}

// pbCaps tells which LLB sources the daemon supports.
type pbCaps struct {
	imageBlob error
}

// featurePayload is the feature's files at the root of a state:
//   - OCI: the first layer fetched by digest by the daemon (with the
//     session's credentials and the daemon's mirrors) and unpacked;
//   - tarball: the URL fetched with its digest pinned, unpacked, without
//     top-level dotfiles (as the reference extracts tarballs);
//   - local: the folder from the build context.
func featurePayload(f plan.Feature, bctx *buildCtx, caps *pbCaps) (llb.State, error) {
	name := llb.WithCustomName("[devcontainer] fetch feature " + f.UserFeatureID)
	unpack := func(archive llb.State) llb.State {
		return llb.Scratch().File(llb.Copy(archive, "/"+payloadFile, "/", &llb.CopyInfo{AttemptUnpack: true, CreateDestPath: true}),
			llb.WithCustomName("[devcontainer] unpack feature "+f.UserFeatureID))
	}
	s := f.Source
	switch s.Kind {
	case features.KindOCI:
		if caps.imageBlob != nil {
			return llb.State{}, errors.Wrapf(caps.imageBlob, "feature %s: this BuildKit cannot fetch OCI feature blobs (needs v0.28 or later, cap %s)", f.UserFeatureID, pb.CapSourceImageBlob)
		}
		if s.LayerDigest == "" {
			return llb.State{}, errors.Errorf("feature %s: no layer digest resolved", f.UserFeatureID)
		}
		if bctx.ociStore != "" {
			blob := llb.OCILayoutBlob(s.Repository+"@"+s.LayerDigest,
				llb.ImageBlobOCIStore(bctx.sessionID, bctx.ociStore), llb.Filename(payloadFile), name)
			return unpack(blob), nil
		}
		blob := llb.ImageBlob(s.Repository+"@"+s.LayerDigest, llb.Filename(payloadFile), name)
		return unpack(blob), nil
	case features.KindTarball:
		opts := []llb.HTTPOption{llb.Filename(payloadFile), name}
		if s.SHA256 != "" {
			opts = append(opts, llb.Checksum(digestOf(s.SHA256)))
		}
		unpacked := unpack(llb.HTTP(s.URL, opts...))
		return llb.Scratch().File(llb.Copy(unpacked, "/", "/", &llb.CopyInfo{
			CopyDirContentsOnly: true,
			ExcludePatterns:     []string{".*", "devcontainer-features.tgz"},
		}), llb.WithCustomName("[devcontainer] select feature files "+f.UserFeatureID)), nil
	case features.KindLocal:
		rel := path.Clean(s.Path)
		src := bctx.local("load feature "+f.UserFeatureID, []string{rel}, nil)
		return llb.Scratch().File(llb.Copy(src, "/"+rel, "/", &llb.CopyInfo{CopyDirContentsOnly: true}),
			llb.WithCustomName("[devcontainer] copy feature "+f.UserFeatureID)), nil
	}
	return llb.State{}, errors.Errorf("feature %s: unsupported source kind %q", f.UserFeatureID, s.Kind)
}

// digestOf parses "sha256:<hex>" (or bare hex) into a digest.
func digestOf(s string) digest.Digest {
	if d, err := digest.Parse(s); err == nil {
		return d
	}
	return digest.NewDigestFromEncoded(digest.SHA256, s)
}
