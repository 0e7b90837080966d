package policy

import "github.com/devcache/devcache/devcontainer/features"

// CheckFeatureRef applies the policy to a feature reference before anything
// is fetched for it, naming the feature as written: OCI features by their
// repository, tarball features by their URL; local features are always
// allowed. Both routes (the plugin's resolver and the frontend) call it.
func (p *Policy) CheckFeatureRef(ref *features.Ref) error {
	if p.Empty() {
		return nil
	}
	switch ref.Kind {
	case features.KindOCI:
		return p.CheckFeature(ref.UserFeatureID, ref.OCI.Registry+"/"+ref.OCI.Path, false)
	case features.KindTarball:
		return p.CheckFeature(ref.UserFeatureID, ref.TarballURL, false)
	}
	return p.CheckFeature(ref.UserFeatureID, "", true)
}
