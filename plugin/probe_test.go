package plugin

import (
	"github.com/devcache/devcache/plugin/cmdline"

	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	dccache "github.com/devcache/devcache/plugin/cache"
)

// TestProbeMissThenHit: exit 1 with the reason before the entry exists,
// exit 0 with the entry's digest after it was pushed, in text, JSON and
// $GITHUB_OUTPUT.
func TestProbeMissThenHit(t *testing.T) {
	isolate(t)
	reg := resolvetest.StartRegistry(t)
	reg.PushImage(t, "base/debian:12", resolvetest.ImageConfig{User: "dev"})
	ws := imageWorkspace(t, `{"image": "`+reg.Host+`/base/debian:12", "containerEnv": {"A": "1"}}`)
	cache := reg.Host + "/team/cache"

	r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache)
	if r.code != 1 || !strings.Contains(r.stderr, "miss: no cache entry "+cache+":dc-") || r.stdout != "" {
		t.Fatalf("before push: %s", r)
	}

	tag := dccache.KeyTag([]*plan.Plan{planFor(t, ws)})
	digest := pushEntry(t, cache, tag, time.Now(), nil)

	ghOut := filepath.Join(t.TempDir(), "out")
	t.Setenv("GITHUB_OUTPUT", ghOut)
	r = runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache)
	want := "DEVCACHE_CACHED_IMAGE=" + cache + "@" + digest + "\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("after push: %s\nwant stdout %q", r, want)
	}
	got, _ := os.ReadFile(ghOut)
	if string(got) != "hit=true\ncached-image="+cache+"@"+digest+"\nkey-tag="+tag+"\n" {
		t.Errorf("$GITHUB_OUTPUT = %q", got)
	}

	r = runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache, "--format", "json")
	var res cmdline.ProbeResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 0 {
		t.Fatalf("json: %v\n%s", err, r)
	}
	if !res.Hit || res.Image != cache+"@"+digest || res.Ref != cache+":"+tag || !strings.HasPrefix(res.Key, "sha256:") {
		t.Errorf("json result = %+v", res)
	}

	// The same through the environment variable, and a changed config
	// misses.
	t.Setenv("DEVCACHE_CACHE_REPO", cache)
	writeFile(t, filepath.Join(ws, ".devcontainer", "devcontainer.json"), `{"image": "`+reg.Host+`/base/debian:12", "containerEnv": {"A": "2"}}`, 0o644)
	os.Truncate(ghOut, 0)
	r = runDevcache(t, "probe", "--workspace-folder", ws, "--format", "json")
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 1 || res.Hit || !strings.Contains(res.Reason, "no cache entry") {
		t.Fatalf("changed config: %v\n%s", err, r)
	}
	if got, _ := os.ReadFile(ghOut); !strings.HasPrefix(string(got), "hit=false\ncached-image=\n") {
		t.Errorf("$GITHUB_OUTPUT on a miss = %q", got)
	}
}

// TestProbePinnedMakesOneRequest: with a digest-pinned base image and a
// lockfile, a probe (after the first, which fills the local resolve cache)
// sends the registry exactly one request, the manifest HEAD of the key tag:
// no ping, no manifest GET, no blob.
func TestProbePinnedMakesOneRequest(t *testing.T) {
	isolate(t)
	reg := resolvetest.StartRegistry(t)
	digest := reg.PushImage(t, "base/debian:12", resolvetest.ImageConfig{User: "dev"})
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "hello", "devcontainer-feature.json"), `{"id":"hello","version":"1.0.0","options":{"greeting":{"type":"string","default":"hey"}}}`, 0o644)
	writeFile(t, filepath.Join(src, "hello", "install.sh"), "#!/bin/sh\necho $GREETING\n", 0o755)
	reg.PublishFeature(t, filepath.Join(src, "hello"), "devcache/features/hello", nil, "1")
	ws := imageWorkspace(t, `{"image": "`+reg.Host+`/base/debian@`+digest+`", "features": {"`+reg.Host+`/devcache/features/hello:1": {}}}`)
	cache := reg.Host + "/team/cache"

	if r := runDevcache(t, "lock", "--workspace-folder", ws); r.code != 0 {
		t.Fatalf("lock: %s", r)
	}
	if r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache); r.code != 1 {
		t.Fatalf("first probe: %s", r)
	}
	reg.Requests()
	r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache)
	if r.code != 1 {
		t.Fatalf("second probe: %s", r)
	}
	reqs := reg.Requests()
	var other []string
	heads := 0
	for _, q := range reqs {
		switch {
		case strings.HasPrefix(q, "HEAD /v2/team/cache/manifests/dc-"):
			heads++
		default:
			other = append(other, q)
		}
	}
	if heads != 1 || len(other) > 0 {
		t.Errorf("requests of a pinned probe: %q; want only one manifest HEAD", reqs)
	}
}

// TestProbeErrorsAreNotMisses: a registry answering 500 or 401, one that
// hangs past --timeout, an unreachable one, a bad config and bad flags all
// exit 2, never 1.
func TestProbeErrorsAreNotMisses(t *testing.T) {
	isolate(t)
	reg := resolvetest.StartRegistry(t)
	reg.PushImage(t, "base/debian:12", resolvetest.ImageConfig{})
	ws := imageWorkspace(t, `{"image": "`+reg.Host+`/base/debian:12"}`)

	serve := func(h http.HandlerFunc) string {
		s := httptest.NewServer(h)
		t.Cleanup(s.Close)
		return strings.TrimPrefix(s.URL, "http://")
	}
	status500 := serve(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"errors":[{"code":"UNKNOWN","message":"boom"}]}`, http.StatusInternalServerError)
	})
	manifest500 := serve(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	})
	status401 := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
	})
	release := make(chan struct{})
	hanging := serve(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })
	l := httptest.NewServer(http.NotFoundHandler())
	closed := strings.TrimPrefix(l.URL, "http://")
	l.Close()

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"500", []string{"--cache-repo", status500 + "/cache"}, "500 Internal Server Error"},
		{"manifest 500", []string{"--cache-repo", manifest500 + "/cache"}, "500"},
		{"401", []string{"--cache-repo", status401 + "/cache"}, "401"},
		{"timeout", []string{"--cache-repo", hanging + "/cache", "--timeout", "1s"}, "raise --timeout"},
		{"unreachable", []string{"--cache-repo", closed + "/cache"}, "connection refused"},
		{"no cache repo", nil, "--cache-repo is required"},
		{"cache repo with tag", []string{"--cache-repo", reg.Host + "/cache:1"}, "without tag"},
		{"bad flag", []string{"--cache-repo", reg.Host + "/cache", "--max-age", "soon"}, "max-age"},
		{"argument", []string{"--cache-repo", reg.Host + "/cache", "extra"}, "no arguments"},
		{"bad format", []string{"--cache-repo", reg.Host + "/cache", "--format", "yaml"}, "--format"},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			r := runDevcache(t, append([]string{"probe", "--workspace-folder", ws}, c.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, c.want) || strings.Contains(r.stderr, "miss") {
				t.Errorf("%s", r)
			}
			if c.name == "timeout" && time.Since(start) > 20*time.Second {
				t.Errorf("timeout took %s", time.Since(start))
			}
		})
	}

	t.Run("bad config", func(t *testing.T) {
		bad := imageWorkspace(t, `{"image": `)
		if r := runDevcache(t, "probe", "--workspace-folder", bad, "--cache-repo", reg.Host+"/cache"); r.code != 2 {
			t.Errorf("%s", r)
		}
	})
	t.Run("base image missing", func(t *testing.T) {
		missing := imageWorkspace(t, `{"image": "`+reg.Host+`/base/none:1"}`)
		if r := runDevcache(t, "probe", "--workspace-folder", missing, "--cache-repo", reg.Host+"/cache"); r.code != 2 {
			t.Errorf("%s", r)
		}
	})
}

// TestProbeMaxAge: an entry older than --max-age is a miss, by the created
// annotation or, without it, the image config's created.
func TestProbeMaxAge(t *testing.T) {
	ws, cache, tag := imageEntryFixture(t)

	// The annotation wins over the config's (reproducible, old) created.
	pushEntry(t, cache, tag, time.Unix(0, 0), map[string]string{dccache.AnnotationCreated: time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)})
	if r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache, "--max-age", "24h"); r.code != 1 || !strings.Contains(r.stderr, "older than --max-age 24h") {
		t.Errorf("48h old, max 24h: %s", r)
	}
	if r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache, "--max-age", "72h"); r.code != 0 {
		t.Errorf("48h old, max 72h: %s", r)
	}
	// No annotation: the config's created.
	pushEntry(t, cache, tag, time.Now().Add(-2*time.Hour), nil)
	if r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache, "--max-age", "1h"); r.code != 1 || !strings.Contains(r.stderr, "older than") {
		t.Errorf("2h old by config, max 1h: %s", r)
	}
	if r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache, "--max-age", "3h"); r.code != 0 {
		t.Errorf("2h old by config, max 3h: %s", r)
	}
}

// TestProbeExplain: on a miss, --explain names the Plan inputs that differ
// from the newest entry of the same scope.
func TestProbeExplain(t *testing.T) {
	isolate(t)
	reg := resolvetest.StartRegistry(t)
	reg.PushImage(t, "base/debian:12", resolvetest.ImageConfig{User: "dev"})
	reg.PushImage(t, "base/debian:13", resolvetest.ImageConfig{User: "dev", Env: []string{"X=1"}})
	cfg := filepath.Join(".devcontainer", "devcontainer.json")
	ws := imageWorkspace(t, `{"image": "`+reg.Host+`/base/debian:12", "remoteUser": "dev"}`)
	cache := reg.Host + "/cache"

	// Without any entry: a miss with a note.
	r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache, "--explain")
	if r.code != 1 || !strings.Contains(r.stdout, "no other entry of scope") {
		t.Fatalf("empty cache: %s", r)
	}

	old := planFor(t, ws)
	pushEntry(t, cache, dccache.KeyTag([]*plan.Plan{old}), time.Now().Add(-time.Hour), map[string]string{
		dccache.AnnotationPlans: dccache.PlansAnnotation([]*plan.Plan{old}), dccache.AnnotationScope: old.ConfigFile,
		dccache.AnnotationCreated: time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
	})
	// An older entry of another scope and one of the same scope: the newest
	// of the scope is compared.
	other := *old
	other.ConfigFile = "elsewhere/devcontainer.json"
	pushEntry(t, cache, dccache.KeyTag([]*plan.Plan{&other}), time.Now(), map[string]string{dccache.AnnotationPlans: dccache.PlansAnnotation([]*plan.Plan{&other})})
	older := *old
	older.ImageUser = "ancient"
	pushEntry(t, cache, dccache.KeyTag([]*plan.Plan{&older}), time.Now().Add(-5*time.Hour), map[string]string{dccache.AnnotationPlans: dccache.PlansAnnotation([]*plan.Plan{&older}),
		dccache.AnnotationCreated: time.Now().Add(-5 * time.Hour).UTC().Format(time.RFC3339)})

	writeFile(t, filepath.Join(ws, cfg), `{"image": "`+reg.Host+`/base/debian:13", "remoteUser": "root"}`, 0o644)
	r = runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache, "--explain", "--format", "json")
	var res cmdline.ProbeResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 1 || res.Explain == nil {
		t.Fatalf("%v\n%s", err, r)
	}
	ex := res.Explain
	if ex.Against != cache+":"+dccache.KeyTag([]*plan.Plan{old}) || ex.Scope != ".devcontainer/devcontainer.json" {
		t.Errorf("compared with %s (scope %s)", ex.Against, ex.Scope)
	}
	paths := map[string]dccache.Difference{}
	for _, d := range ex.Differences {
		paths[d.Path] = d
	}
	for _, p := range []string{"base.image.ref", "base.image.manifestDigest", "base.image.env[0]", "metadataLabel"} {
		if _, ok := paths[p]; !ok {
			t.Errorf("differences lack %s: %+v", p, ex.Differences)
		}
	}
	if d := paths["base.image.ref"]; !strings.HasSuffix(d.Old, `debian:12"`) || !strings.HasSuffix(d.New, `debian:13"`) {
		t.Errorf("base.image.ref: %+v", d)
	}
	if _, ok := paths["imageUser"]; ok {
		t.Errorf("compared with the older entry: %+v", ex.Differences)
	}
	r = runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache, "--explain")
	if r.code != 1 || !strings.Contains(r.stdout, "base.image.ref:") || !strings.Contains(r.stdout, "differs from "+ex.Against) {
		t.Errorf("text explain: %s", r)
	}
}

// TestProbeMaxAgeBuildInfo: without a created annotation on the manifest,
// the age is push's build-info referrer's, not the (reproducible) config's.
func TestProbeMaxAgeBuildInfo(t *testing.T) {
	ws, cache, tag := imageEntryFixture(t)
	pushEntry(t, cache, tag, time.Unix(0, 0), nil)
	writeTestBuildInfo(t, cache, tag, time.Now().Add(-2*time.Hour))
	if r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache, "--max-age", "3h"); r.code != 0 {
		t.Errorf("2h old by build info, max 3h: %s", r)
	}
	if r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache, "--max-age", "1h"); r.code != 1 || !strings.Contains(r.stderr, "older than --max-age 1h") {
		t.Errorf("2h old by build info, max 1h: %s", r)
	}
}

// TestProbeResolvesInParallel: with a registry that takes 400ms per
// manifest GET, a config naming an image tag and three feature tags is
// probed in well under the 1.6s a one-by-one resolution would take.
func TestProbeResolvesInParallel(t *testing.T) {
	isolate(t)
	const delay = 400 * time.Millisecond
	var slow atomic.Bool
	host := startTestRegistry(t, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if slow.Load() && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/") {
			time.Sleep(delay)
		}
		next.ServeHTTP(w, r)
	})
	reg := &resolvetest.Registry{Host: host}
	reg.PushImage(t, "base/debian:12", resolvetest.ImageConfig{})
	src := t.TempDir()
	feats := ""
	for _, id := range []string{"a", "b", "c"} {
		writeFile(t, filepath.Join(src, id, "devcontainer-feature.json"), `{"id":"`+id+`","version":"1.0.0"}`, 0o644)
		writeFile(t, filepath.Join(src, id, "install.sh"), "#!/bin/sh\n", 0o755)
		reg.PublishFeature(t, filepath.Join(src, id), "f/"+id, nil, "1")
		feats += `"` + host + `/f/` + id + `:1": {},`
	}
	ws := imageWorkspace(t, `{"image": "`+host+`/base/debian:12", "features": {`+feats+`}}`)
	slow.Store(true)
	start := time.Now()
	r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", host+"/cache")
	took := time.Since(start)
	if r.code != 1 {
		t.Fatalf("%s", r)
	}
	if took > 3*delay {
		t.Errorf("probe took %s for 4 references at %s each: not resolved in parallel", took, delay)
	}
	t.Logf("probe took %s", took)
}
