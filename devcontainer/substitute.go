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
	// WorkspaceFolderUsed, when set, is called each time a substituted
	// value draws on LocalWorkspaceFolder: ${localWorkspaceFolder},
	// ${localWorkspaceFolderBasename}, and ${containerWorkspaceFolder}(Basename)
	// when their value came from the default rule or from a workspaceFolder
	// that names a local workspace variable. A client that had to assume
	// the workspace path (the frontend on the buildx route) uses it to warn
	// only when the assumption reached a value. It may be called from
	// several goroutines when Config.Substitute is.
	WorkspaceFolderUsed func()
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
	// capturing collects uses of LocalWorkspaceFolder into captured
	// instead of reporting them (while workspaceFolder itself is resolved).
	capturing, captured bool
	file                string // config basename, for errors
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
		s.capturing = true
		resolved, err := s.resolveString(cwf)
		s.capturing = false
		s.cwfFromLocal = s.cwfFromLocal || s.captured
		if err == nil {
			s.containerWorkspaceFolder = &resolved
		}
	}
	return s
}

// usedLocalWorkspace reports a use of LocalWorkspaceFolder (see
// Variables.WorkspaceFolderUsed).
func (s *substituter) usedLocalWorkspace() {
	if s.capturing {
		s.captured = true
		return
	}
	if s.vars.WorkspaceFolderUsed != nil {
		s.vars.WorkspaceFolderUsed()
	}
}

// value substitutes every string at any depth of v; keys are kept.
func (s *substituter) value(v jsonc.Value, field string, line int, obj *jsonc.Object) (jsonc.Value, error) {
	switch t := v.(type) {
	case string:
		r, err := s.resolveString(t)
		if err != nil {
			return nil, &Error{File: s.file, Line: line, Field: field, Err: err}
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

func (s *substituter) resolveString(str string) (string, error) {
	if s.vars == nil || !strings.Contains(str, "${") {
		return str, nil
	}
	var firstErr error
	out := variableRE.ReplaceAllStringFunc(str, func(match string) string {
		body := match[2 : len(match)-1]
		name, args := body, []string(nil)
		if parts := strings.Split(body, ":"); len(parts) > 1 {
			name, args = parts[0], parts[1:]
		}
		r, err := s.replace(match, name, args)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return r
	})
	if firstErr != nil {
		return "", firstErr
	}
	return out, nil
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
	case "localWorkspaceFolder", "localWorkspaceFolderBasename":
		if s.vars.LocalWorkspaceFolder == "" {
			return match, nil
		}
		s.usedLocalWorkspace()
		if name == "localWorkspaceFolderBasename" {
			return path.Base(s.vars.LocalWorkspaceFolder), nil
		}
		return s.vars.LocalWorkspaceFolder, nil
	case "containerWorkspaceFolder", "containerWorkspaceFolderBasename":
		if s.containerWorkspaceFolder == nil {
			return match, nil
		}
		if s.cwfFromLocal {
			s.usedLocalWorkspace()
		}
		if name == "containerWorkspaceFolderBasename" {
			return path.Base(*s.containerWorkspaceFolder), nil
		}
		return *s.containerWorkspaceFolder, nil
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
