package plan

import (
	"strings"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/internal/dockerfile"
)

// ReadDockerfile reads a Dockerfile config's Dockerfile (its text in data)
// as BuildKit builds it for b on platform: build.args, then build.options'
// --build-arg values (the order the frontend passes them in), and
// build.target. It is the one reading behind the Plan's context digest and
// image pins; the plugin's source policy uses it too.
func ReadDockerfile(data []byte, b *devcontainer.Build, platform string) (*dockerfile.Summary, error) {
	args := map[string]string{}
	for _, a := range b.Args {
		args[a.Name] = a.Value
	}
	for _, a := range b.Options.BuildArgs {
		args[a.Name] = a.Value
	}
	var named map[string]string
	for _, c := range b.Contexts {
		if named == nil {
			named = map[string]string{}
		}
		if c.Image != "" {
			named[c.Name] = "docker-image://" + c.Image
		} else {
			named[c.Name] = c.Path
		}
	}
	return dockerfile.Read(data, dockerfile.Options{BuildArgs: args, Target: b.Target, Platform: platform, NamedContexts: named})
}

// contextSources lists the paths (patterns, relative to the context,
// slash-separated; "." is all of it) of the build context (name "") or
// the named context name that the stages the target needs read: see
// dockerfile.Summary.Sources. When they cannot be known
// (dockerfile.Summary.Whole), whole is true and the whole context must be
// hashed.
func contextSources(s *dockerfile.Summary, name string) (sources []string, whole bool) {
	if s.Whole != "" {
		return nil, true
	}
	for _, p := range s.ContextSourcePaths(name) {
		sources = append(sources, selectable(p))
	}
	return sources, false
}

// selectable turns a COPY --parents "**" pattern, which selected's
// path.Match cannot follow across directories, into the directory above
// its first wildcard segment: more files than the build reads, never fewer.
func selectable(p string) string {
	if !strings.Contains(p, "**") {
		return p
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.ContainsAny(s, "*?[") {
			if i == 0 {
				return "."
			}
			return strings.Join(segs[:i], "/")
		}
	}
	return p
}
