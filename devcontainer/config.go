package devcontainer

import (
	"errors"
	"fmt"

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
	// Raw is the config after legacy-key migration and before variable
	// substitution: what the metadata label stores.
	Raw *jsonc.Object
	// Substituted is Raw with build-time variables substituted: what drives
	// the build.
	Substituted *jsonc.Object

	Kind  Kind
	Image string // substituted `image`
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
// nothing.
func Parse(file string, data []byte, vars *Variables) (*Config, error) {
	v, err := jsonc.Parse(data)
	if err != nil {
		var se *jsonc.SyntaxError
		if errors.As(err, &se) {
			return nil, &Error{File: file, Line: se.Line, Err: errors.New(se.Msg)}
		}
		return nil, &Error{File: file, Err: err}
	}
	raw, ok := v.(*jsonc.Object)
	if !ok {
		return nil, &Error{File: file, Err: fmt.Errorf("Dev container config (%s) must contain a JSON object literal.", file)}
	}
	migrateLegacyKeys(raw)
	c := &Config{File: file, Raw: raw}
	c.Substituted = vars.substituteObject(jsonc.Clone(raw).(*jsonc.Object))

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
	if s, ok := c.Substituted.Get("image"); ok {
		str, isStr := s.(string)
		if !isStr {
			return nil, &Error{File: file, Line: raw.Line("image"), Field: "image", Err: errors.New("must be a string")}
		}
		c.Image = str
	}
	if c.Kind == KindCompose {
		return nil, &Error{File: file, Line: raw.Line("dockerComposeFile"), Field: "dockerComposeFile",
			Err: errors.New("Docker Compose configs are not supported yet; use an image or a Dockerfile")}
	}
	return c, nil
}

func hasBuildDockerfile(o *jsonc.Object) bool {
	b, ok := o.Get("build")
	if !ok {
		return false
	}
	bo, ok := b.(*jsonc.Object)
	return ok && bo.Has("dockerfile")
}

// migrateLegacyKeys moves the legacy top-level VS Code keys into
// customizations.vscode, as the reference does before anything else.
func migrateLegacyKeys(o *jsonc.Object) {
	// Filled in with the full rules of the reference (extensions, settings,
	// devPort) by the model work; nothing to migrate in configs without them.
}
