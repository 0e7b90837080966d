package build

import (
	"reflect"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/plan"
)

func testPlans() []*plan.Plan {
	return []*plan.Plan{{FormatVersion: plan.FormatVersion, Platform: "linux/amd64", ConfigFile: ".devcontainer/devcontainer.json",
		Base:     plan.Base{Kind: devcontainer.KindImage, Image: &devcontainer.Image{Ref: "r.example/base:1", ManifestDigest: "sha256:" + strings.Repeat("a", 64)}},
		Features: []plan.Feature{}}}
}

// The build uses exactly the digests the Plan pinned.
func TestPinPolicy(t *testing.T) {
	d1, d2 := "sha256:"+strings.Repeat("1", 64), "sha256:"+strings.Repeat("2", 64)
	p := testPlans()[0]
	p.Base.Image = &devcontainer.Image{Ref: "busybox", Digest: d1, ManifestDigest: d2}
	p.Base.Dockerfile = &plan.Dockerfile{Images: []plan.ImagePin{{Ref: "r.example:5000/tools:1", Digest: d2}, {Ref: "x/y@" + d1, Digest: d1}}}
	pol := pinPolicy([]*plan.Plan{p})
	if pol == nil || len(pol.Rules) != 2 {
		t.Fatalf("policy = %v", pol)
	}
	got := map[string]string{}
	for _, r := range pol.Rules {
		got[r.Selector.Identifier] = r.Updates.Identifier
	}
	want := map[string]string{
		"docker-image://docker.io/library/busybox:latest": "docker-image://docker.io/library/busybox:latest@" + d1,
		"docker-image://r.example:5000/tools:1":           "docker-image://r.example:5000/tools:1@" + d2,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rules = %v, want %v", got, want)
	}
	if pinPolicy(testPlans()[:0]) != nil {
		t.Error("a policy without pins")
	}
}
