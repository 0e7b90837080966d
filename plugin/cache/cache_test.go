package cache

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/plugin/registry"
)

func testPlans() []*plan.Plan {
	return []*plan.Plan{{FormatVersion: plan.FormatVersion, Platform: "linux/amd64", ConfigFile: ".devcontainer/devcontainer.json",
		Base:     plan.Base{Kind: devcontainer.KindImage, Image: &devcontainer.Image{Ref: "r.example/base:1", ManifestDigest: "sha256:" + strings.Repeat("a", 64)}},
		Features: []plan.Feature{}}}
}

func TestScopeTag(t *testing.T) {
	for scope, want := range map[string]string{
		"main":                            "cache-main",
		".devcontainer/devcontainer.json": "cache-devcontainer-devcontainer.json-",
		"":                                "cache-default-",
	} {
		got := ScopeTag(scope)
		if !strings.HasPrefix(got, want) {
			t.Errorf("ScopeTag(%q) = %q, want prefix %q", scope, got, want)
		}
		if IsKeyTag(got) {
			t.Errorf("ScopeTag(%q) = %q looks like a key tag", scope, got)
		}
	}
	// Distinct scopes that sanitise alike keep distinct tags; long ones fit.
	if ScopeTag("a/b") == ScopeTag("a-b") || ScopeTag("a b") == ScopeTag("a/b") {
		t.Error("sanitised scopes collide")
	}
	if long := ScopeTag(strings.Repeat("x/", 200)); len(long) > 128 {
		t.Errorf("scope tag of %d characters", len(long))
	}
	if _, err := name.NewTag("r.example/x:" + ScopeTag(".devcontainer/a b/devcontainer.json")); err != nil {
		t.Error(err)
	}
}

func TestKeyInputs(t *testing.T) {
	got := KeyInputs(testPlans())
	for _, want := range []string{"config .devcontainer/devcontainer.json", "platforms linux/amd64", "base r.example/base:1@sha256:aaaaaaaaaaaa"} {
		if !strings.Contains(got, want) {
			t.Errorf("KeyInputs = %q, lacks %q", got, want)
		}
	}
}

// The build info is written beside the image and read back, newest first;
// the image's own manifest is untouched.
func TestBuildInfoRoundTrip(t *testing.T) {
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.WithReferrersSupport(true), ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ctx := context.Background()
	repo, _ := name.NewRepository(strings.TrimPrefix(srv.URL, "http://") + "/team/devcache")
	reg, err := registry.New()
	if err != nil {
		t.Fatal(err)
	}
	img, _ := random.Image(64, 1)
	d, _ := img.Digest()
	if err := remote.Write(repo.Digest(d.String()), img, reg.Options(ctx)...); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ReadBuildInfo(ctx, reg, repo, d); ok || err != nil {
		t.Fatalf("before: ok=%v err=%v", ok, err)
	}
	desc, err := remote.Get(repo.Digest(d.String()), reg.Options(ctx)...)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, dur := range []time.Duration{75 * time.Second, 90 * time.Second} {
		if err := WriteBuildInfo(ctx, reg, repo, desc, BuildInfo{Key: "sha256:k", KeyInputs: "config x", Duration: dur, Created: t0.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	info, ok, err := ReadBuildInfo(ctx, reg, repo, d)
	if err != nil || !ok {
		t.Fatalf("after: ok=%v err=%v", ok, err)
	}
	if info.Duration != 90*time.Second || !info.Created.Equal(t0.Add(time.Hour)) || info.Key != "sha256:k" || info.Version == "" {
		t.Errorf("build info = %+v", info)
	}
	if again, _ := remote.Get(repo.Digest(d.String()), reg.Options(ctx)...); again.Digest != d {
		t.Error("the image changed")
	}
}

// A key tag is never overwritten: claiming a tag that exists returns the
// existing entry; a missing tag is a nil entry, not an error.
func TestClaimKeyTag(t *testing.T) {
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ctx := context.Background()
	repo, _ := name.NewRepository(strings.TrimPrefix(srv.URL, "http://") + "/team/devcache")
	reg, err := registry.New()
	if err != nil {
		t.Fatal(err)
	}
	tag := KeyTagPrefix + strings.Repeat("c", 64)
	if d, err := Lookup(ctx, reg, repo, tag); d != nil || err != nil {
		t.Fatalf("lookup of a missing entry: %v, %v", d, err)
	}
	push := func() *remote.Descriptor {
		img, _ := random.Image(32, 1)
		d, _ := img.Digest()
		if err := remote.Write(repo.Digest(d.String()), img, reg.Options(ctx)...); err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Get(repo.Digest(d.String()), reg.Options(ctx)...)
		if err != nil {
			t.Fatal(err)
		}
		return desc
	}
	first, second := push(), push()
	got, stored, err := Claim(ctx, reg, repo, tag, first)
	if err != nil || !stored || got.Digest != first.Digest {
		t.Fatalf("first claim: %v stored=%v err=%v", got, stored, err)
	}
	got, stored, err = Claim(ctx, reg, repo, tag, second)
	if err != nil || stored || got.Digest != first.Digest {
		t.Fatalf("second claim: %v stored=%v err=%v, want the first entry kept", got, stored, err)
	}
	if d, _ := Lookup(ctx, reg, repo, tag); d.Digest != first.Digest {
		t.Errorf("the key tag was overwritten: %s", d.Digest)
	}
}

// An error (here: a registry that refuses) is never a miss.
func TestLookupEntryErrorIsNotAMiss(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"errors":[{"code":"DENIED","message":"no"}]}`, http.StatusForbidden)
	}))
	defer srv.Close()
	repo, _ := name.NewRepository(strings.TrimPrefix(srv.URL, "http://") + "/team/devcache")
	reg, _ := registry.New()
	d, err := Lookup(context.Background(), reg, repo, KeyTagPrefix+strings.Repeat("d", 64))
	if d != nil || err == nil || !strings.Contains(err.Error(), "docker login") {
		t.Errorf("lookup on a refusing registry: %v, %v", d, err)
	}
}
