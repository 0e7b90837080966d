package features

import (
	"errors"
	"fmt"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/jsonc"
)

// MetadataFile is the name of a feature's metadata file.
const MetadataFile = "devcontainer-feature.json"

// Metadata is the typed view of a feature's effective metadata (the merge of
// devcontainer-feature.json, the OCI annotation and the reference's own
// defaults). Only what the build uses is typed; Raw keeps everything, in
// source order, for the label.
type Metadata struct {
	Raw *jsonc.Object

	ID, Version, Name, Description, DocumentationURL string
	// Options are the declared options, in declaration order.
	Options []Option
	// ContainerEnv is `containerEnv`, in key order.
	ContainerEnv []devcontainer.EnvVar
	// DependsOn are the hard dependencies, in key order.
	DependsOn []Dependency
	// InstallsAfter are the soft dependencies.
	InstallsAfter []string
	LegacyIDs     []string
	CurrentID     string
	Deprecated    bool
	// BuildArg is the legacy `buildArg`: an extra env line NAME=<main value>.
	BuildArg string
}

// Option is one declared option.
type Option struct {
	Name       string
	Default    jsonc.Value
	HasDefault bool
}

// Dependency is one `dependsOn` entry: a reference and its options value.
type Dependency struct {
	Key     string
	Options jsonc.Value
}

// ParseMetadataJSON parses the bytes of a devcontainer-feature.json (or an
// OCI dev.containers.metadata annotation) into its object. file names it in
// errors. Empty input yields an empty object, as the reference treats an
// empty file.
func ParseMetadataJSON(file string, data []byte) (*jsonc.Object, error) {
	if len(trimSpace(data)) == 0 {
		return jsonc.NewObject(), nil
	}
	v, err := jsonc.Parse(data)
	if err != nil {
		var se *jsonc.SyntaxError
		if errors.As(err, &se) {
			return nil, &devcontainer.Error{File: file, Line: se.Line, Err: errors.New(se.Msg)}
		}
		return nil, &devcontainer.Error{File: file, Err: err}
	}
	o, ok := v.(*jsonc.Object)
	if !ok || o == nil {
		return nil, &devcontainer.Error{File: file, Err: errors.New("must contain a JSON object")}
	}
	return o, nil
}

func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	for j > i && (b[j-1] == ' ' || b[j-1] == '\t' || b[j-1] == '\n' || b[j-1] == '\r') {
		j--
	}
	return b[i:j]
}

// ParseMetadata parses and decodes a devcontainer-feature.json.
func ParseMetadata(file string, data []byte) (*Metadata, error) {
	o, err := ParseMetadataJSON(file, data)
	if err != nil {
		return nil, err
	}
	return DecodeMetadata(file, o)
}

// DecodeMetadata types the fields of a metadata object. Fields of the wrong
// type are errors naming file, line and field; unknown fields are kept in
// Raw and otherwise ignored, like the reference (which validates nothing,
// but fails on a wrong type when it uses the field).
func DecodeMetadata(file string, o *jsonc.Object) (*Metadata, error) {
	m := &Metadata{Raw: o}
	errf := func(field, key string, line int, format string, args ...any) error {
		if line == 0 {
			line = o.Line(key)
		}
		return &devcontainer.Error{File: file, Line: line, Field: field, Err: fmt.Errorf(format, args...)}
	}
	str := func(key string, dst *string) error {
		v, ok := o.Get(key)
		if !ok || v == nil {
			return nil
		}
		s, isStr := v.(string)
		if !isStr {
			return errf(key, key, 0, "must be a string")
		}
		*dst = s
		return nil
	}
	for key, dst := range map[string]*string{
		"id": &m.ID, "version": &m.Version, "name": &m.Name, "description": &m.Description,
		"documentationURL": &m.DocumentationURL, "currentId": &m.CurrentID, "buildArg": &m.BuildArg,
	} {
		if err := str(key, dst); err != nil {
			return nil, err
		}
	}
	if v, ok := o.Get("deprecated"); ok {
		m.Deprecated = jsonc.Truthy(v)
	}
	if v, ok := o.Get("options"); ok && v != nil {
		opts, isObj := v.(*jsonc.Object)
		if !isObj {
			return nil, errf("options", "options", 0, "must be an object of option declarations")
		}
		for _, name := range opts.Keys() {
			d, _ := opts.Get(name)
			decl, isObj := d.(*jsonc.Object)
			if !isObj || decl == nil {
				return nil, errf(devcontainer.FieldKey("options", name), "options", opts.Line(name), "must be an object like {\"type\": \"string\", \"default\": \"…\"}")
			}
			def, has := decl.Get("default")
			m.Options = append(m.Options, Option{Name: name, Default: def, HasDefault: has})
		}
	}
	if v, ok := o.Get("containerEnv"); ok && v != nil {
		env, isObj := v.(*jsonc.Object)
		if !isObj {
			return nil, errf("containerEnv", "containerEnv", 0, "must be an object of strings")
		}
		for _, k := range env.Keys() {
			e, _ := env.Get(k)
			s, isStr := e.(string)
			if !isStr {
				return nil, errf(devcontainer.FieldKey("containerEnv", k), "containerEnv", env.Line(k), "must be a string")
			}
			m.ContainerEnv = append(m.ContainerEnv, devcontainer.EnvVar{Name: k, Value: s})
		}
	}
	if v, ok := o.Get("dependsOn"); ok && v != nil {
		deps, isObj := v.(*jsonc.Object)
		if !isObj {
			return nil, errf("dependsOn", "dependsOn", 0, "must be an object mapping feature references to options")
		}
		for _, k := range deps.Keys() {
			e, _ := deps.Get(k)
			switch e.(type) {
			case string, bool, jsonc.Number, *jsonc.Object:
			default:
				return nil, errf(devcontainer.FieldKey("dependsOn", k), "dependsOn", deps.Line(k), "must be an options object, a version string or a boolean")
			}
			m.DependsOn = append(m.DependsOn, Dependency{Key: k, Options: e})
		}
	}
	strList := func(key string, dst *[]string) error {
		v, ok := o.Get(key)
		if !ok || v == nil {
			return nil
		}
		arr, isArr := v.([]jsonc.Value)
		if !isArr {
			return errf(key, key, 0, "must be an array of strings")
		}
		for i, e := range arr {
			s, isStr := e.(string)
			if !isStr {
				return errf(devcontainer.FieldIndex(key, i), key, 0, "must be a string")
			}
			*dst = append(*dst, s)
		}
		return nil
	}
	if err := strList("installsAfter", &m.InstallsAfter); err != nil {
		return nil, err
	}
	if err := strList("legacyIds", &m.LegacyIDs); err != nil {
		return nil, err
	}
	return m, nil
}

// Aliases are the ids a feature is known by for soft-dependency matching:
// [currentId || id, ...legacyIds]. An empty alias matches nothing.
func (m *Metadata) Aliases() []string {
	first := m.CurrentID
	if first == "" {
		first = m.ID
	}
	return append([]string{first}, m.LegacyIDs...)
}

// Effective merges the metadata the reference combines into a feature: the
// implied fields (id, and name for local and tarball features), overridden by
// the dependency-pass metadata (the OCI annotation, or the json), then
// completed — never overridden — by the payload's devcontainer-feature.json.
// Legacy top-level extensions/settings are migrated last.
func Effective(implied, depMetadata, payloadJSON *jsonc.Object) (*jsonc.Object, error) {
	merged := jsonc.Spread(payloadJSON, jsonc.Spread(implied, depMetadata))
	if err := devcontainer.MigrateLegacyKeys(merged, false); err != nil {
		return nil, err
	}
	return merged, nil
}
