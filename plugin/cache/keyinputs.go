package cache

import (
	"strings"

	"github.com/devcache/devcache/devcontainer/plan"
)

// KeyInputs is a one-line human summary of what the key hashes, for the
// entry's build info (AnnotationKeyInputs) and the text output.
func KeyInputs(plans []*plan.Plan) string {
	if len(plans) == 0 {
		return ""
	}
	p := plans[0]
	var parts []string
	parts = append(parts, "config "+p.ConfigFile, "platforms "+platformList(plans))
	if img := p.Base.Image; img != nil {
		parts = append(parts, "base "+img.Ref+"@"+img.ManifestDigest)
	}
	if df := p.Base.Dockerfile; df != nil {
		s := "dockerfile " + df.Path
		if df.Target != "" {
			s += " target " + df.Target
		}
		if df.ContextDigest != "" {
			s += " context " + shortDigest(df.ContextDigest)
		}
		parts = append(parts, s)
	}
	for _, f := range p.Features {
		id := f.UserFeatureID
		switch {
		case f.Source.ManifestDigest != "":
			id += "@" + shortDigest(f.Source.ManifestDigest)
		case f.Source.ContentDigest != "":
			id += " " + shortDigest(f.Source.ContentDigest)
		}
		parts = append(parts, "feature "+id)
	}
	return strings.Join(parts, "; ")
}

// platformList is the Plans' platforms, comma-separated.
func platformList(plans []*plan.Plan) string {
	ps := make([]string, len(plans))
	for i, p := range plans {
		ps[i] = p.Platform
	}
	return strings.Join(ps, ",")
}

func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}
