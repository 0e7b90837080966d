package plugin

import (
	"encoding/json"
	"strings"

	"github.com/devcache/devcache/devcontainer/plan"
)

// plansAttr is the value of the frontend's devcache-plan option: the Plans
// as a JSON array of their canonical JSON.
func plansAttr(plans []*plan.Plan) string {
	raws := make([]json.RawMessage, len(plans))
	for i, p := range plans {
		raws[i] = json.RawMessage(p.JSON())
	}
	b, err := json.Marshal(raws)
	if err != nil {
		panic(err) // canonical JSON is valid JSON
	}
	return string(b)
}

// planPlatforms is the frontend's platform option for plans.
func planPlatforms(plans []*plan.Plan) string {
	ps := make([]string, len(plans))
	for i, p := range plans {
		ps[i] = p.Platform
	}
	return strings.Join(ps, ",")
}

// keyInputs is a one-line human summary of what the key hashes, for the
// entry's annotations and the text output.
func keyInputs(plans []*plan.Plan) string {
	if len(plans) == 0 {
		return ""
	}
	p := plans[0]
	var parts []string
	parts = append(parts, "config "+p.ConfigFile, "platforms "+planPlatforms(plans))
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

func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}
