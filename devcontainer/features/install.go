package features

import (
	"fmt"

	"github.com/devcache/devcache/devcontainer/jsonc"
)

// Install is one feature instance in install order, with everything the
// image build needs from it.
type Install struct {
	// Index is the 0-based position in the install order.
	Index int
	Node  *Node
	// Metadata is the effective metadata (json, annotation and implied
	// fields merged).
	Metadata *Metadata
	// ConsecutiveID is the staging folder name `<id>_<index>`.
	ConsecutiveID string
	// EnvLines are the option variables (devcontainer-features.env lines).
	EnvLines []string
	// Wrapper is devcontainer-features-install.sh.
	Wrapper string
	// Entry is the feature's devcontainer.metadata entry (raw values).
	Entry *jsonc.Object
}

// InstallOptions tune Installs.
type InstallOptions struct {
	// SkipCustomizations leaves `customizations` out of the label entries
	// (the reference's --skip-persisting-customizations-from-features).
	SkipCustomizations bool
}

// labelFeatureKeys are the feature properties the reference copies into
// the metadata label, in its order.
var labelFeatureKeys = []string{
	"onCreateCommand", "updateContentCommand", "postCreateCommand", "postStartCommand",
	"postAttachCommand", "init", "privileged", "capAdd", "securityOpt", "entrypoint",
	"mounts", "customizations",
}

// Installs derives the per-feature build inputs of an install order.
func Installs(order []*Node, o InstallOptions) ([]*Install, error) {
	out := make([]*Install, 0, len(order))
	for i, n := range order {
		implied := jsonc.NewObject()
		implied.Set("id", n.Ref.FeatureID)
		if n.Ref.Kind != KindOCI {
			implied.Set("name", n.Ref.ID)
		}
		afterDeps := jsonc.Spread(implied, n.Source.DepMetadata)
		idv, _ := afterDeps.Get("id")
		id, _ := idv.(string)
		if id == "" {
			return nil, fmt.Errorf("feature %q: Internal Features error. Missing required attribute(s): id", n.UserFeatureID)
		}
		cid := fmt.Sprintf("%s_%d", id, i)
		if n.Source.PayloadMetadata == nil {
			return nil, fmt.Errorf("feature %q: %w", n.UserFeatureID,
				fmt.Errorf("Failed to parse feature '%s_%s'. Please check your devcontainer.json 'features' attribute.", cid, n.Ref.Kind))
		}
		eff, err := Effective(implied, n.Source.DepMetadata, n.Source.PayloadMetadata)
		if err != nil {
			return nil, fmt.Errorf("feature %q: %w", n.UserFeatureID, err)
		}
		m, err := DecodeMetadata(n.UserFeatureID+": "+MetadataFile, eff)
		if err != nil {
			return nil, err
		}
		lines := EnvLines(m, n.Options)
		entry := jsonc.NewObject()
		entry.Set("id", n.UserFeatureID)
		for _, k := range labelFeatureKeys {
			if k == "customizations" && o.SkipCustomizations {
				continue
			}
			if v, ok := eff.Get(k); ok {
				entry.Set(k, jsonc.Clone(v))
			}
		}
		out = append(out, &Install{
			Index: i, Node: n, Metadata: m, ConsecutiveID: cid, EnvLines: lines,
			Wrapper: WrapperScript(m, m.Name, n.Ref.WithoutVersionOrUnknown(), lines),
			Entry:   entry,
		})
	}
	return out, nil
}
