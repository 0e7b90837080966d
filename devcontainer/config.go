package devcontainer

import (
	"errors"
	"fmt"
	"path"

	"github.com/devcache/devcache/devcontainer/jsonc"
)

// Kind is the kind of a config: what its base comes from.
type Kind string

const (
	KindImage      Kind = "image"
	KindDockerfile Kind = "dockerfile"
	KindCompose    Kind = "compose"
)

// Config is a parsed devcontainer.json.
type Config struct {
	// File is the config's path as the user knows it (used in errors).
	File string
	// Path is the config's absolute (slash-separated) path when known, from
	// Load; empty after a bare Parse. Relative paths in the config (the
	// Dockerfile, the build context, local features) resolve against its
	// directory.
	Path string
	// Raw is the config after legacy-key migration and before variable
	// substitution: what the metadata label stores.
	Raw *jsonc.Object
	// Substituted is Raw with build-time variables substituted: what drives
	// the build.
	Substituted *jsonc.Object

	Kind  Kind
	Image string // substituted `image`

	// Build is the Dockerfile build (KindDockerfile only).
	Build *Build
	// Compose names the Compose files and service (KindCompose only).
	Compose *Compose
	// Features are the entries of `features`, in config order, with
	// substituted values.
	Features []Feature
	// OverrideFeatureInstallOrder is the substituted overrideFeatureInstallOrder.
	OverrideFeatureInstallOrder []string
	// ContainerEnv is the substituted containerEnv, in key order.
	ContainerEnv []EnvVar
	// ContainerUser and RemoteUser are the substituted users ("" when unset).
	ContainerUser, RemoteUser string

	subst *substituter
}

// Feature is one entry of the config's `features` object.
type Feature struct {
	// Key is the feature reference exactly as written.
	Key string
	// Value is the options value: an object, a string (the `version`
	// option), a boolean or a number. Substituted.
	Value jsonc.Value
	// Line is the key's line in the config file.
	Line int
}

// EnvVar is one name=value pair, kept in source order.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Error is an error about a config file, naming the file, line and field.
type Error struct {
	File  string
	Line  int    // 1-based; 0 when unknown
	Field string // JSON path like features["./x"]; empty when not about a field
	Err   error
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %v", loc, e.Field, e.Err)
	}
	return fmt.Sprintf("%s: %v", loc, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Parse parses the bytes of a devcontainer.json. file names the file in
// errors. vars supplies the build-time variable values; nil substitutes
// nothing. Relative paths are not resolved (Config.Path is empty); use Load
// or ParseAt for that.
func Parse(file string, data []byte, vars *Variables) (*Config, error) {
	return ParseAt(file, "", data, vars)
}

// ParseAt is Parse for a config whose absolute path is known: relative
// paths in it (Dockerfile, context) are resolved against its directory.
func ParseAt(file, absPath string, data []byte, vars *Variables) (*Config, error) {
	v, err := jsonc.Parse(data)
	if err != nil {
		var se *jsonc.SyntaxError
		if errors.As(err, &se) {
			return nil, &Error{File: file, Line: se.Line, Err: errors.New(se.Msg)}
		}
		return nil, &Error{File: file, Err: err}
	}
	raw, ok := v.(*jsonc.Object)
	if !ok || raw == nil {
		return nil, &Error{File: file, Err: fmt.Errorf("Dev container config (%s) must contain a JSON object literal.", displayPath(file, absPath))}
	}
	if err := MigrateLegacyKeys(raw, true); err != nil {
		return nil, wrapFieldErr(file, raw, err)
	}
	c := &Config{File: file, Path: absPath, Raw: raw}
	c.subst = newSubstituter(vars, file, raw)
	sv, err := c.subst.value(raw, "", 0, nil)
	if err != nil {
		return nil, err
	}
	c.Substituted = sv.(*jsonc.Object)

	switch {
	case c.Substituted.Has("dockerFile") || hasBuildDockerfile(c.Substituted):
		c.Kind = KindDockerfile
	case c.Substituted.Has("dockerComposeFile"):
		c.Kind = KindCompose
	case c.Substituted.Has("image"):
		c.Kind = KindImage
	default:
		return nil, &Error{File: file, Err: errors.New("No image information specified in devcontainer.json.")}
	}
	if c.Kind == KindCompose {
		if c.Compose, err = c.parseCompose(); err != nil {
			return nil, err
		}
	}
	if s, ok := c.Substituted.Get("image"); ok {
		str, isStr := s.(string)
		if !isStr {
			return nil, c.errorf("image", "must be a string")
		}
		c.Image = str
	}
	if c.Kind == KindImage && c.Image == "" {
		return nil, &Error{File: file, Line: raw.Line("image"), Field: "image", Err: errors.New("No image information specified in devcontainer.json.")}
	}
	if c.Kind == KindDockerfile {
		if c.Build, err = c.parseBuild(); err != nil {
			return nil, err
		}
	}
	if err := c.parseFeatures(); err != nil {
		return nil, err
	}
	if c.ContainerEnv, err = c.stringMap("containerEnv"); err != nil {
		return nil, err
	}
	if c.ContainerUser, err = c.optionalString("containerUser"); err != nil {
		return nil, err
	}
	if c.RemoteUser, err = c.optionalString("remoteUser"); err != nil {
		return nil, err
	}
	return c, nil
}

func displayPath(file, absPath string) string {
	if absPath != "" {
		return absPath
	}
	return file
}

func hasBuildDockerfile(o *jsonc.Object) bool {
	b, ok := o.Get("build")
	if !ok {
		return false
	}
	bo, ok := b.(*jsonc.Object)
	return ok && bo.Has("dockerfile")
}

// Dir is the directory of the config file (absolute when Path is known,
// else "."): the base for relative paths in the config.
func (c *Config) Dir() string {
	if c.Path == "" {
		return "."
	}
	return path.Dir(c.Path)
}

func (c *Config) parseFeatures() error {
	fv, ok := c.Substituted.Get("features")
	if ok && fv != nil {
		fo, isObj := fv.(*jsonc.Object)
		if !isObj {
			return c.errorf("features", "must be an object mapping feature references to options")
		}
		for _, k := range fo.Keys() {
			v, _ := fo.Get(k)
			switch v.(type) {
			case string, bool, jsonc.Number, *jsonc.Object:
			default:
				return &Error{File: c.File, Line: fo.Line(k), Field: FieldKey("features", k),
					Err: errors.New("must be an options object, a version string or a boolean")}
			}
			c.Features = append(c.Features, Feature{Key: k, Value: v, Line: fo.Line(k)})
		}
	}
	ov, ok := c.Substituted.Get("overrideFeatureInstallOrder")
	if ok && ov != nil {
		arr, isArr := ov.([]jsonc.Value)
		if !isArr {
			return c.errorf("overrideFeatureInstallOrder", "must be an array of feature references")
		}
		for i, e := range arr {
			s, isStr := e.(string)
			if !isStr {
				return &Error{File: c.File, Line: c.Raw.Line("overrideFeatureInstallOrder"), Field: FieldIndex("overrideFeatureInstallOrder", i), Err: errors.New("must be a string")}
			}
			c.OverrideFeatureInstallOrder = append(c.OverrideFeatureInstallOrder, s)
		}
	}
	return nil
}

// stringMap reads an object of strings (e.g. containerEnv) in key order.
func (c *Config) stringMap(key string) ([]EnvVar, error) {
	v, ok := c.Substituted.Get(key)
	if !ok || v == nil {
		return nil, nil
	}
	o, isObj := v.(*jsonc.Object)
	if !isObj {
		return nil, c.errorf(key, "must be an object of strings")
	}
	var out []EnvVar
	for _, k := range o.Keys() {
		e, _ := o.Get(k)
		s, isStr := e.(string)
		if !isStr {
			return nil, &Error{File: c.File, Line: o.Line(k), Field: FieldKey(key, k), Err: errors.New("must be a string")}
		}
		out = append(out, EnvVar{Name: k, Value: s})
	}
	return out, nil
}

func (c *Config) optionalString(key string) (string, error) {
	v, ok := c.Substituted.Get(key)
	if !ok || v == nil {
		return "", nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", c.errorf(key, "must be a string")
	}
	return s, nil
}

// errorf returns an Error about a top-level field of the config.
func (c *Config) errorf(field, format string, args ...any) error {
	return &Error{File: c.File, Line: c.Raw.Line(field), Field: field, Err: fmt.Errorf(format, args...)}
}

// Errorf returns an Error about the config file, at the line of the given
// top-level key (0 when absent) and naming field.
func (c *Config) Errorf(key, field, format string, args ...any) error {
	return &Error{File: c.File, Line: c.Raw.Line(key), Field: field, Err: fmt.Errorf(format, args...)}
}

// FeatureError returns an Error about the config's feature key (with its
// line): `devcontainer.json:12: features["./x"]: <err>`.
func (c *Config) FeatureError(key string, err error) error {
	line := 0
	if fv, ok := c.Raw.Get("features"); ok {
		if fo, isObj := fv.(*jsonc.Object); isObj {
			line = fo.Line(key)
		}
	}
	return &Error{File: c.File, Line: line, Field: FieldKey("features", key), Err: err}
}

func wrapFieldErr(file string, raw *jsonc.Object, err error) error {
	var fe *fieldError
	if errors.As(err, &fe) {
		top := fe.field
		for i, r := range top {
			if r == '.' || r == '[' {
				top = top[:i]
				break
			}
		}
		return &Error{File: file, Line: raw.Line(top), Field: fe.field, Err: fe.err}
	}
	return &Error{File: file, Err: err}
}
