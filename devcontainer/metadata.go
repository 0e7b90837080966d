package devcontainer

import (
	"encoding/json"
	"strings"

	"github.com/devcache/devcache/devcontainer/jsonc"
)

// MetadataLabelKey is the image label that carries dev container metadata.
const MetadataLabelKey = "devcontainer.metadata"

// configMetadataKeys are the config properties the reference copies into the
// metadata label, in the order it writes them.
var configMetadataKeys = []string{
	"onCreateCommand", "updateContentCommand", "postCreateCommand", "postStartCommand",
	"postAttachCommand", "waitFor", "customizations", "mounts", "containerEnv",
	"containerUser", "init", "privileged", "capAdd", "securityOpt", "remoteUser",
	"userEnvProbe", "remoteEnv", "overrideCommand", "portsAttributes",
	"otherPortsAttributes", "forwardPorts", "shutdownAction", "updateRemoteUserUID",
	"hostRequirements",
}

// MetadataEntry is the config's entry of the metadata label: the picked keys
// of the raw config, in the reference's order. It may be empty.
func (c *Config) MetadataEntry() *jsonc.Object {
	e := jsonc.NewObject()
	for _, k := range configMetadataKeys {
		if v, ok := c.Raw.Get(k); ok {
			e.Set(k, jsonc.Clone(v))
		}
	}
	return e
}

// ParseMetadataLabel reads an existing devcontainer.metadata label value (an
// array of entries, or a single object). An unparseable label yields no
// entries, as in the reference.
func ParseMetadataLabel(label string) []*jsonc.Object {
	if strings.TrimSpace(label) == "" || !json.Valid([]byte(label)) {
		// The reference reads the label with JSON.parse: no comments.
		return nil
	}
	v, err := jsonc.Parse([]byte(label))
	if err != nil {
		return nil
	}
	switch t := v.(type) {
	case *jsonc.Object:
		return []*jsonc.Object{t}
	case []jsonc.Value:
		var out []*jsonc.Object
		for _, e := range t {
			if o, ok := e.(*jsonc.Object); ok {
				out = append(out, o)
			}
		}
		return out
	}
	return nil
}

// MetadataLabel renders the label value from the entries in order (base
// image entries, feature entries, config entry), dropping empty ones, byte
// for byte as the reference stores it. ok is false when no entry is left, in
// which case no label is written.
func MetadataLabel(entries []*jsonc.Object) (value string, ok bool) {
	var parts []string
	for _, e := range entries {
		if e.Len() == 0 {
			continue
		}
		parts = append(parts, jsonc.Stringify(e))
	}
	if len(parts) == 0 {
		return "", false
	}
	return "[ " + strings.Join(parts, ", ") + " ]", true
}

// SubstitutedMetadataEntry is MetadataEntry from the substituted config:
// what the reference reads the users from.
func (c *Config) SubstitutedMetadataEntry() *jsonc.Object {
	e := jsonc.NewObject()
	for _, k := range configMetadataKeys {
		if v, ok := c.Substituted.Get(k); ok {
			e.Set(k, jsonc.Clone(v))
		}
	}
	return e
}
