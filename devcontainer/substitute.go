package devcontainer

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/devcache/devcache/devcontainer/jsonc"
)

// Variables are the values build-time substitution draws on. They come from
// the client (the plugin, or build args the client passes to the frontend):
// a BuildKit frontend sees neither the host environment nor the workspace
// path.
type Variables struct {
	// LocalEnv looks up ${localEnv:NAME} and ${env:NAME}. Nil means an
	// empty environment (every name unset).
	LocalEnv func(name string) (string, bool)
	// LocalWorkspaceFolder is the absolute workspace path on the client.
	// Empty means unknown: ${localWorkspaceFolder} and
	// ${localWorkspaceFolderBasename} are then left as written, and
	// ${containerWorkspaceFolder} has no default.
	LocalWorkspaceFolder string
	// WorkspaceFolderUsed, when set, is called each time a value that
	// reaches the image (see imageFields) draws on LocalWorkspaceFolder:
	// ${localWorkspaceFolder}, ${localWorkspaceFolderBasename}, and
	// ${containerWorkspaceFolder}(Basename) when their value came from the
	// default rule or from a workspaceFolder naming a local workspace
	// variable. A client that had to assume the workspace path (the
	// frontend on the buildx route) warns only when the assumption reached
	// the image. It may be called from several goroutines when
	// Config.Substitute is.
	WorkspaceFolderUsed func()
}

// imageFields are the top-level properties whose substituted values reach
// the image (base, build, features, ENV, users). The others are kept for
// runtime (workspaceMount, runArgs, …) or reach only the metadata label,
// which stores the unsubstituted form.
var imageFields = map[string]bool{
	"image": true, "build": true, "dockerFile": true, "context": true,
	"features": true, "overrideFeatureInstallOrder": true,
	"containerEnv": true, "containerUser": true, "remoteUser": true,
}

// variableRE is the reference's /\$\{(.*?)\}/g.
var variableRE = regexp.MustCompile(`\$\{(.*?)\}`)

// substituter replaces the build-time variables of the reference's
// `substitute()`: localEnv/env, localWorkspaceFolder(Basename) and
// containerWorkspaceFolder(Basename). Everything else (${containerEnv:…},
// ${devcontainerId}, unknown names) is left as written.
type substituter struct {
	vars *Variables
	// containerWorkspaceFolder is set when known; cwfFromLocal when its
	// value depends on LocalWorkspaceFolder.
	containerWorkspaceFolder *string
	cwfFromLocal             bool
	file                     string // config basename, for errors
}

func newSubstituter(vars *Variables, file string, raw *jsonc.Object) *substituter {
	s := &substituter{vars: vars, file: file}
	if vars == nil {
		return s
	}
	// The reference takes workspaceFolder from the (migrated, unsubstituted)
	// config, else /workspaces/<basename of the workspace> (build never
	// mounts the git root), and substitutes that value once.
	var cwf string
	known := false
	if wf, ok := raw.Get("workspaceFolder"); ok && jsonc.Truthy(wf) {
		if str, isStr := wf.(string); isStr {
			cwf, known = str, true
		}
	}
	if !known && vars.LocalWorkspaceFolder != "" {
		cwf, known = path.Join("/workspaces", path.Base(vars.LocalWorkspaceFolder)), true
		s.cwfFromLocal = true
	}
	if known {
		s.containerWorkspaceFolder = &cwf
		resolved, local, err := s.resolveString(cwf)
		if err == nil {
			s.containerWorkspaceFolder = &resolved
			s.cwfFromLocal = s.cwfFromLocal || local
		}
	}
	return s
}

// reportLocal calls Variables.WorkspaceFolderUsed for a value of field that
// drew on the local workspace, if the field reaches the image.
func (s *substituter) reportLocal(field string) {
	if s.vars.WorkspaceFolderUsed == nil {
		return
	}
	top := field
	if i := strings.IndexAny(field, ".["); i >= 0 {
		top = field[:i]
	}
	if imageFields[top] {
		s.vars.WorkspaceFolderUsed()
	}
}

// value substitutes every string at any depth of v; keys are kept.
func (s *substituter) value(v jsonc.Value, field string, line int, obj *jsonc.Object) (jsonc.Value, error) {
	switch t := v.(type) {
	case string:
		r, local, err := s.resolveString(t)
		if err != nil {
			return nil, &Error{File: s.file, Line: line, Field: field, Err: err}
		}
		if local {
			s.reportLocal(field)
		}
		return r, nil
	case []jsonc.Value:
		out := make([]jsonc.Value, len(t))
		for i, e := range t {
			r, err := s.value(e, FieldIndex(field, i), line, obj)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case *jsonc.Object:
		if t == nil {
			return t, nil
		}
		out := jsonc.Clone(t).(*jsonc.Object)
		for _, k := range t.Keys() {
			e, _ := t.Get(k)
			l := t.Line(k)
			if l == 0 {
				l = line
			}
			r, err := s.value(e, FieldKey(field, k), l, t)
			if err != nil {
				return nil, err
			}
			out.Set(k, r)
		}
		return out, nil
	}
	return v, nil
}

// resolveString substitutes str; local tells whether a replaced variable
// drew on LocalWorkspaceFolder.
func (s *substituter) resolveString(str string) (out string, local bool, err error) {
	if s.vars == nil || !strings.Contains(str, "${") {
		return str, false, nil
	}
	var firstErr error
	out = variableRE.ReplaceAllStringFunc(str, func(match string) string {
		body := match[2 : len(match)-1]
		name, args := body, []string(nil)
		if parts := strings.Split(body, ":"); len(parts) > 1 {
			name, args = parts[0], parts[1:]
		}
		r, err := s.replace(match, name, args)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if r != match && s.drawsOnLocal(name) {
			local = true
		}
		return r
	})
	if firstErr != nil {
		return "", false, firstErr
	}
	return out, local, nil
}

// drawsOnLocal tells whether variable name's value depends on
// LocalWorkspaceFolder.
func (s *substituter) drawsOnLocal(name string) bool {
	switch name {
	case "localWorkspaceFolder", "localWorkspaceFolderBasename":
		return true
	case "containerWorkspaceFolder", "containerWorkspaceFolderBasename":
		return s.cwfFromLocal
	}
	return false
}

func (s *substituter) replace(match, name string, args []string) (string, error) {
	switch name {
	case "env", "localEnv":
		if len(args) == 0 {
			return "", fmt.Errorf("'%s' in %s can not be resolved because no environment variable name is given.", match, path.Base(s.file))
		}
		if s.vars.LocalEnv != nil {
			if v, ok := s.vars.LocalEnv(args[0]); ok {
				return v, nil
			}
		}
		if len(args) > 1 {
			return args[1], nil
		}
		return "", nil
	case "localWorkspaceFolder":
		if s.vars.LocalWorkspaceFolder == "" {
			return match, nil
		}
		return s.vars.LocalWorkspaceFolder, nil
	case "localWorkspaceFolderBasename":
		if s.vars.LocalWorkspaceFolder == "" {
			return match, nil
		}
		return path.Base(s.vars.LocalWorkspaceFolder), nil
	case "containerWorkspaceFolder":
		if s.containerWorkspaceFolder == nil {
			return match, nil
		}
		return *s.containerWorkspaceFolder, nil
	case "containerWorkspaceFolderBasename":
		if s.containerWorkspaceFolder == nil {
			return match, nil
		}
		return path.Base(*s.containerWorkspaceFolder), nil
	}
	return match, nil
}

// Substitute applies the config's build-time substitution to a value taken
// from elsewhere (e.g. a base image's metadata entry), as the reference does
// before reading users from it.
func (c *Config) Substitute(v jsonc.Value) (jsonc.Value, error) {
	if c.subst == nil {
		return jsonc.Clone(v), nil
	}
	return c.subst.value(v, "", 0, nil)
}
