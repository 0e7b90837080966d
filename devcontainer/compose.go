package devcontainer

import (
	"errors"

	"github.com/devcache/devcache/devcontainer/jsonc"
)

// Compose is a Docker Compose config's `dockerComposeFile` and `service`.
// The Compose files themselves are read by devcontainer/compose (loaded by
// devcontainer/compose/composego).
type Compose struct {
	// Files are the `dockerComposeFile` entries resolved against the
	// config's directory, in order (later files override earlier ones);
	// none for an empty array, whose files the reference finds as
	// compose.DefaultFiles does.
	Files []string
	// Service is the `service` the dev container runs.
	Service string
}

func (c *Config) parseCompose() (*Compose, error) {
	v, _ := c.Substituted.Get("dockerComposeFile")
	var files []string
	empty := false
	switch t := v.(type) {
	case string:
		files = []string{t}
	case []jsonc.Value:
		empty = len(t) == 0
		for i, e := range t {
			s, ok := e.(string)
			if !ok || s == "" {
				return nil, &Error{File: c.File, Line: c.Raw.Line("dockerComposeFile"), Field: FieldIndex("dockerComposeFile", i), Err: errors.New("must be a non-empty string (a Compose file's path relative to the config)")}
			}
			files = append(files, s)
		}
	}
	if !empty && (len(files) == 0 || files[0] == "") {
		return nil, c.errorf("dockerComposeFile", "must be a Compose file's path or an array of them, relative to the config")
	}
	cp := &Compose{}
	for _, f := range files {
		cp.Files = append(cp.Files, resolvePosix(c.Dir(), f))
	}
	svc, err := c.optionalString("service")
	if err != nil {
		return nil, err
	}
	if svc == "" {
		return nil, c.errorf("dockerComposeFile", "a Docker Compose config needs `service`: the Compose service the dev container runs")
	}
	cp.Service = svc
	return cp, nil
}
