package build

import (
	"sort"

	"github.com/distribution/reference"
	spb "github.com/moby/buildkit/sourcepolicy/pb"
	godigest "github.com/opencontainers/go-digest"

	"github.com/devcache/devcache/devcontainer/plan"
)

// pinPolicy is a BuildKit source policy that makes the build use exactly
// the images the Plans pinned: each tag the client resolved (the base image
// and every image a Dockerfile names) is converted to <tag>@<digest> in
// every solve of the build, including the Dockerfile frontend's sub-solve
// and the "# syntax=" frontend image it forwards to.
// Without it a tag that moved between resolving and building would make
// the pushed image differ from what its key promises. nil when nothing is
// pinned.
func pinPolicy(plans []*plan.Plan) *spb.Policy {
	pins := map[string]string{} // docker-image identifier → with digest
	add := func(ref, digest string) {
		if ref == "" || digest == "" {
			return
		}
		named, err := reference.ParseNormalizedNamed(ref)
		if err != nil {
			return
		}
		if _, ok := named.(reference.Digested); ok {
			return // already immutable
		}
		named = reference.TagNameOnly(named)
		d, err := godigest.Parse(digest)
		if err != nil {
			return
		}
		pinned, err := reference.WithDigest(named, d)
		if err != nil {
			return
		}
		pins["docker-image://"+named.String()] = "docker-image://" + pinned.String()
	}
	for _, p := range plans {
		if img := p.Base.Image; img != nil {
			d := img.Digest
			if d == "" {
				d = img.ManifestDigest
			}
			add(img.Ref, d)
		}
		if df := p.Base.Dockerfile; df != nil {
			for _, pin := range df.Images {
				add(pin.Ref, pin.Digest)
			}
			if pin := df.Syntax; pin != nil {
				add(pin.Ref, pin.Digest) // the frontend pins it too (BUILDKIT_SYNTAX)
			}
		}
	}
	if len(pins) == 0 {
		return nil
	}
	keys := make([]string, 0, len(pins))
	for k := range pins {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pol := &spb.Policy{Version: 1}
	for _, k := range keys {
		pol.Rules = append(pol.Rules, &spb.Rule{
			Action:   spb.PolicyAction_CONVERT,
			Selector: &spb.Selector{Identifier: k, MatchType: spb.MatchType_EXACT},
			Updates:  &spb.Update{Identifier: pins[k]},
		})
	}
	return pol
}
