package plugin

import (
	"github.com/devcache/devcache/plugin/cmdline"

	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/moby/buildkit/client"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/plugin/cache"
)

func TestSavedTime(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "<1s", 300 * time.Millisecond: "<1s", 999 * time.Millisecond: "<1s", time.Second: "~0m 1s", 1400 * time.Millisecond: "~0m 1s", 75 * time.Second: "~1m 15s", 3*time.Hour + 2*time.Second: "~180m 2s",
	} {
		if got := cmdline.SavedTime(d); got != want {
			t.Errorf("cmdline.SavedTime(%v) = %q, want %q", d, got, want)
		}
	}
}

func testPlans() []*plan.Plan {
	return []*plan.Plan{{FormatVersion: plan.FormatVersion, Platform: "linux/amd64", ConfigFile: ".devcontainer/devcontainer.json",
		Base:     plan.Base{Kind: devcontainer.KindImage, Image: &devcontainer.Image{Ref: "r.example/base:1", ManifestDigest: "sha256:" + strings.Repeat("a", 64)}},
		Features: []plan.Feature{}}}
}

// The keyed image is pushed by digest, reproducibly, with only
// deterministic annotations.
func TestKeyedExport(t *testing.T) {
	repo, _ := name.NewRepository("r.example/team/devcache")
	res := &pushResult{Key: "sha256:" + strings.Repeat("b", 64), Scope: "s"}
	e := keyedExport(repo, testPlans(), res)
	if e.Type != client.ExporterImage {
		t.Errorf("type %s", e.Type)
	}
	for k, v := range map[string]string{
		"name": "r.example/team/devcache", "push": "true", "push-by-digest": "true", "rewrite-timestamp": "true",
		"compression": "gzip", "compression-level": "1",
		"annotation." + cache.AnnotationKey: res.Key, "annotation." + cache.AnnotationScope: "s",
	} {
		if e.Attrs[k] != v {
			t.Errorf("attr %s = %q, want %q", k, e.Attrs[k], v)
		}
	}
	for k := range e.Attrs {
		if strings.Contains(k, "attest") || strings.Contains(k, cache.AnnotationCreated) || strings.Contains(k, cache.AnnotationBuildDuration) {
			t.Errorf("attr %s would make the image differ between builders", k)
		}
	}
	if !strings.Contains(e.Attrs["annotation."+cache.AnnotationPlans], `"platform":"linux/amd64"`) {
		t.Errorf("plans annotation = %s", e.Attrs["annotation."+cache.AnnotationPlans])
	}
	two := append(testPlans(), testPlans()...)
	two[1].Platform = "linux/arm64"
	if e := keyedExport(repo, two, res); e.Attrs["annotation-index."+cache.AnnotationKey] != res.Key {
		t.Errorf("several platforms: attrs %v, want index annotations", e.Attrs)
	}
}
