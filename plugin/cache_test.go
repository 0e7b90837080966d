package plugin

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/buildkit/client"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/plan"
)

func TestScopeTag(t *testing.T) {
	for scope, want := range map[string]string{
		"main":                            "cache-main",
		".devcontainer/devcontainer.json": "cache-devcontainer-devcontainer.json-",
		"":                                "cache-default-",
	} {
		got := scopeTag(scope)
		if !strings.HasPrefix(got, want) {
			t.Errorf("scopeTag(%q) = %q, want prefix %q", scope, got, want)
		}
		if isKeyTag(got) {
			t.Errorf("scopeTag(%q) = %q looks like a key tag", scope, got)
		}
	}
	// Distinct scopes that sanitise alike keep distinct tags; long ones fit.
	if scopeTag("a/b") == scopeTag("a-b") || scopeTag("a b") == scopeTag("a/b") {
		t.Error("sanitised scopes collide")
	}
	if long := scopeTag(strings.Repeat("x/", 200)); len(long) > 128 {
		t.Errorf("scope tag of %d characters", len(long))
	}
	if _, err := name.NewTag("r.example/x:" + scopeTag(".devcontainer/a b/devcontainer.json")); err != nil {
		t.Error(err)
	}
}

func TestSavedTime(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "~0m 0s", 1400 * time.Millisecond: "~0m 1s", 75 * time.Second: "~1m 15s", 3*time.Hour + 2*time.Second: "~180m 2s",
	} {
		if got := savedTime(d); got != want {
			t.Errorf("savedTime(%v) = %q, want %q", d, got, want)
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
		"annotation." + AnnotationKey: res.Key, "annotation." + AnnotationScope: "s",
	} {
		if e.Attrs[k] != v {
			t.Errorf("attr %s = %q, want %q", k, e.Attrs[k], v)
		}
	}
	for k := range e.Attrs {
		if strings.Contains(k, "attest") || strings.Contains(k, AnnotationCreated) || strings.Contains(k, AnnotationBuildDuration) {
			t.Errorf("attr %s would make the image differ between builders", k)
		}
	}
	if !strings.Contains(e.Attrs["annotation."+AnnotationPlans], `"platform":"linux/amd64"`) {
		t.Errorf("plans annotation = %s", e.Attrs["annotation."+AnnotationPlans])
	}
	two := append(testPlans(), testPlans()...)
	two[1].Platform = "linux/arm64"
	if e := keyedExport(repo, two, res); e.Attrs["annotation-index."+AnnotationKey] != res.Key {
		t.Errorf("several platforms: attrs %v, want index annotations", e.Attrs)
	}
}

func TestKeyInputs(t *testing.T) {
	got := keyInputs(testPlans())
	for _, want := range []string{"config .devcontainer/devcontainer.json", "platforms linux/amd64", "base r.example/base:1@sha256:aaaaaaaaaaaa"} {
		if !strings.Contains(got, want) {
			t.Errorf("keyInputs = %q, lacks %q", got, want)
		}
	}
}

// The build info is written beside the image and read back, newest first;
// the image's own manifest is untouched.
func TestBuildInfoRoundTrip(t *testing.T) {
	isolate(t)
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.WithReferrersSupport(true), ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ctx := context.Background()
	repo, _ := name.NewRepository(strings.TrimPrefix(srv.URL, "http://") + "/team/devcache")
	reg, err := (&registryOptions{}).newRegistry((&rootOptions{}).credentials())
	if err != nil {
		t.Fatal(err)
	}
	img, _ := random.Image(64, 1)
	d, _ := img.Digest()
	if err := remote.Write(repo.Digest(d.String()), img, reg.options(ctx)...); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := reg.readBuildInfo(ctx, repo, d); ok || err != nil {
		t.Fatalf("before: ok=%v err=%v", ok, err)
	}
	desc, err := remote.Get(repo.Digest(d.String()), reg.options(ctx)...)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, dur := range []time.Duration{75 * time.Second, 90 * time.Second} {
		if err := reg.writeBuildInfo(ctx, repo, desc, buildInfo{Key: "sha256:k", KeyInputs: "config x", Duration: dur, Created: t0.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	info, ok, err := reg.readBuildInfo(ctx, repo, d)
	if err != nil || !ok {
		t.Fatalf("after: ok=%v err=%v", ok, err)
	}
	if info.Duration != 90*time.Second || !info.Created.Equal(t0.Add(time.Hour)) || info.Key != "sha256:k" || info.Version == "" {
		t.Errorf("build info = %+v", info)
	}
	if again, _ := remote.Get(repo.Digest(d.String()), reg.options(ctx)...); again.Digest != d {
		t.Error("the image changed")
	}
}

func TestCannotExportCacheMessage(t *testing.T) {
	msg := errCannotExportCache("default", "docker").Error()
	for _, want := range []string{`"default"`, `"docker"`, "docker buildx create", "--buildkit-host"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}

// A key tag is never overwritten: claiming a tag that exists returns the
// existing entry; a missing tag is a nil entry, not an error.
func TestClaimKeyTag(t *testing.T) {
	isolate(t)
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ctx := context.Background()
	repo, _ := name.NewRepository(strings.TrimPrefix(srv.URL, "http://") + "/team/devcache")
	reg, err := (&registryOptions{}).newRegistry((&rootOptions{}).credentials())
	if err != nil {
		t.Fatal(err)
	}
	tag := keyTagPrefix + strings.Repeat("c", 64)
	if d, err := lookupEntry(ctx, reg, repo, tag); d != nil || err != nil {
		t.Fatalf("lookup of a missing entry: %v, %v", d, err)
	}
	push := func() *remote.Descriptor {
		img, _ := random.Image(32, 1)
		d, _ := img.Digest()
		if err := remote.Write(repo.Digest(d.String()), img, reg.options(ctx)...); err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Get(repo.Digest(d.String()), reg.options(ctx)...)
		if err != nil {
			t.Fatal(err)
		}
		return desc
	}
	first, second := push(), push()
	got, stored, err := claimKeyTag(ctx, reg, repo, tag, first)
	if err != nil || !stored || got.Digest != first.Digest {
		t.Fatalf("first claim: %v stored=%v err=%v", got, stored, err)
	}
	got, stored, err = claimKeyTag(ctx, reg, repo, tag, second)
	if err != nil || stored || got.Digest != first.Digest {
		t.Fatalf("second claim: %v stored=%v err=%v, want the first entry kept", got, stored, err)
	}
	if d, _ := lookupEntry(ctx, reg, repo, tag); d.Digest != first.Digest {
		t.Errorf("the key tag was overwritten: %s", d.Digest)
	}
}

// An error (here: a registry that refuses) is never a miss.
func TestLookupEntryErrorIsNotAMiss(t *testing.T) {
	isolate(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"errors":[{"code":"DENIED","message":"no"}]}`, http.StatusForbidden)
	}))
	defer srv.Close()
	repo, _ := name.NewRepository(strings.TrimPrefix(srv.URL, "http://") + "/team/devcache")
	reg, _ := (&registryOptions{}).newRegistry((&rootOptions{}).credentials())
	d, err := lookupEntry(context.Background(), reg, repo, keyTagPrefix+strings.Repeat("d", 64))
	if d != nil || err == nil || !strings.Contains(err.Error(), "docker login") {
		t.Errorf("lookup on a refusing registry: %v, %v", d, err)
	}
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
