package plugin

import (
	"github.com/devcache/devcache/plugin/cmdline"

	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devcache/devcache/plugin/cache"
	"github.com/devcache/devcache/plugin/registry"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// startTestRegistry is an in-process registry behind middleware mw (nil:
// none), on loopback; it returns host:port.
func startTestRegistry(t *testing.T, mw func(http.ResponseWriter, *http.Request, http.Handler)) string {
	t.Helper()
	h := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	var handler http.Handler = h
	if mw != nil {
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { mw(w, r, h) })
	}
	s := httptest.NewServer(handler)
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

// fakeKeyTag is a well-formed key tag.
func fakeKeyTag(c byte) string { return cache.KeyTagPrefix + strings.Repeat(string(c), 64) }

func tagExists(t *testing.T, ref string) bool {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	_, err = remote.Head(r)
	if err != nil && !registry.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// TestPrune: --dry-run lists and deletes nothing; a run deletes expired
// entries but never the newest of a scope (unless --keep 0) nor other tags.
func TestPrune(t *testing.T) {
	isolate(t)
	host := startTestRegistry(t, nil)
	repo := host + "/cache"
	now := time.Now()
	entry := func(c byte, scope string, age time.Duration) string {
		tag := fakeKeyTag(c)
		pushEntry(t, repo, tag, time.Unix(0, 0), map[string]string{cache.AnnotationScope: scope, cache.AnnotationCreated: now.Add(-age).UTC().Format(time.RFC3339)})
		return repo + ":" + tag
	}
	a1 := entry('a', "a/devcontainer.json", time.Hour)
	a2 := entry('b', "a/devcontainer.json", 48*time.Hour)
	a3 := entry('c', "a/devcontainer.json", 72*time.Hour)
	b1 := entry('d', "b/devcontainer.json", 100*time.Hour)
	other := repo + ":latest"
	pushEntry(t, repo, "latest", now.Add(-1000*time.Hour), nil)

	r := runDevcache(t, "prune", "--cache-repo", repo, "--older-than", "24h", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "would delete "+a2) || !strings.Contains(r.stdout, "would delete "+a3) || strings.Count(r.stdout, "would delete") != 2 {
		t.Fatalf("dry run: %s", r)
	}
	for _, ref := range []string{a1, a2, a3, b1, other} {
		if !tagExists(t, ref) {
			t.Errorf("dry run deleted %s", ref)
		}
	}

	r = runDevcache(t, "prune", "--cache-repo", repo, "--older-than", "24h", "--format", "json")
	var rep pruneReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || len(rep.Deleted) != 2 || rep.DryRun {
		t.Fatalf("prune: %v\n%s", err, r)
	}
	for ref, want := range map[string]bool{a1: true, a2: false, a3: false, b1: true, other: true} {
		if got := tagExists(t, ref); got != want {
			t.Errorf("%s exists = %v, want %v", ref, got, want)
		}
	}

	// --keep 0: the newest of scope b goes too, a1 is young enough.
	r = runDevcache(t, "prune", "--cache-repo", repo, "--older-than", "24h", "--keep", "0")
	if r.code != 0 || !strings.Contains(r.stdout, "deleted "+b1) {
		t.Fatalf("keep 0: %s", r)
	}
	if tagExists(t, b1) || !tagExists(t, a1) || !tagExists(t, other) {
		t.Errorf("after --keep 0: b1 %v a1 %v other %v", tagExists(t, b1), tagExists(t, a1), tagExists(t, other))
	}

	if r := runDevcache(t, "prune", "--cache-repo", repo); r.code == 0 || !strings.Contains(r.stderr, "--older-than is required") {
		t.Errorf("without --older-than: %s", r)
	}
}

// TestPruneDeleteRefused: a registry that refuses DELETE gives an error
// saying so, and --dry-run still works.
func TestPruneDeleteRefused(t *testing.T) {
	isolate(t)
	host := startTestRegistry(t, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.Method == http.MethodDelete {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMethodNotAllowed)
			io.WriteString(w, `{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}`)
			return
		}
		next.ServeHTTP(w, r)
	})
	repo := host + "/cache"
	old := time.Now().Add(-100 * time.Hour).UTC().Format(time.RFC3339)
	pushEntry(t, repo, fakeKeyTag('a'), time.Unix(0, 0), map[string]string{cache.AnnotationCreated: old})
	pushEntry(t, repo, fakeKeyTag('b'), time.Unix(0, 0), map[string]string{cache.AnnotationCreated: old})
	if r := runDevcache(t, "prune", "--cache-repo", repo, "--older-than", "1h", "--dry-run"); r.code != 0 || strings.Count(r.stdout, "would delete") != 1 {
		t.Errorf("dry run: %s", r)
	}
	r := runDevcache(t, "prune", "--cache-repo", repo, "--older-than", "1h")
	if r.code == 0 || !strings.Contains(r.stderr, "does not allow deleting manifests (405)") || !strings.Contains(r.stderr, "REGISTRY_STORAGE_DELETE_ENABLED") {
		t.Errorf("refused delete: %s", r)
	}
}

// writeTestBuildInfo records a build-info referrer (as push does) for
// repo:tag with the given creation time.
func writeTestBuildInfo(t *testing.T, repo, tag string, created time.Time) name.Digest {
	t.Helper()
	reg, err := (&cmdline.RegistryFlags{}).Client((&cmdline.Root{}).Credentials())
	if err != nil {
		t.Fatal(err)
	}
	r, _ := name.NewRepository(repo)
	desc, err := remote.Get(r.Tag(tag))
	if err != nil {
		t.Fatal(err)
	}
	if err := cache.WriteBuildInfo(t.Context(), reg, r, desc, cache.BuildInfo{Key: "sha256:x", Created: created}); err != nil {
		t.Fatal(err)
	}
	return r.Digest(desc.Digest.String())
}

// TestPruneBuildInfo: an entry's age comes from push's build-info
// referrer when the manifest has no created annotation, and pruning the
// entry deletes that referrer too.
func TestPruneBuildInfo(t *testing.T) {
	isolate(t)
	host := startTestRegistry(t, nil)
	repo := host + "/cache"
	young, old := fakeKeyTag('1'), fakeKeyTag('2')
	pushEntry(t, repo, young, time.Unix(0, 0), nil)
	pushEntry(t, repo, old, time.Unix(0, 0), map[string]string{"x": "other digest"})
	writeTestBuildInfo(t, repo, young, time.Now().Add(-time.Hour))
	subject := writeTestBuildInfo(t, repo, old, time.Now().Add(-50*time.Hour))

	r := runDevcache(t, "prune", "--cache-repo", repo, "--older-than", "24h")
	if r.code != 0 || !strings.Contains(r.stdout, "deleted "+repo+":"+old) || strings.Contains(r.stdout, young) {
		t.Fatalf("prune: %s", r)
	}
	idx, err := remote.Referrers(subject)
	if err != nil {
		t.Fatal(err)
	}
	if im, _ := idx.IndexManifest(); len(im.Manifests) != 0 {
		t.Errorf("referrers left: %+v", im.Manifests)
	}
	if !tagExists(t, repo+":"+young) {
		t.Error("young entry deleted")
	}
}

// pushLayerCache writes a stand-in layer cache (what push's cache export
// writes) at the first of repo's tags and tags it with the others, and
// returns its digest.
func pushLayerCache(t *testing.T, repo string, tags ...string) string {
	t.Helper()
	d := pushEntry(t, repo, tags[0], time.Unix(0, 0), nil)
	r, _ := name.NewRepository(repo)
	desc, err := remote.Get(r.Digest(d))
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags[1:] {
		if err := remote.Tag(r.Tag(tag), desc); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// TestPruneKeyCaches: with the entries of a key, prune deletes its layer
// cache cache-dc-<key> (--dry-run only says so); where a kept tag (the
// scope's layer cache, a kept key's) names the same manifest, only the tag
// goes and that manifest stays; a key with a kept entry keeps its layer
// cache though an older generation goes.
func TestPruneKeyCaches(t *testing.T) {
	isolate(t)
	host := startTestRegistry(t, nil)
	repo := host + "/cache"
	now := time.Now()
	entry := func(tag, scope string, age time.Duration) {
		pushEntry(t, repo, tag, time.Unix(0, 0), map[string]string{cache.AnnotationScope: scope, cache.AnnotationCreated: now.Add(-age).UTC().Format(time.RFC3339)})
	}
	key := func(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }
	ref := func(tag string) string { return repo + ":" + tag }
	entry(fakeKeyTag('a'), "s", time.Hour)                        // kept: the newest of s
	entry(fakeKeyTag('b'), "s", 50*time.Hour)                     // goes; layer cache = the scope's
	entry(fakeKeyTag('c'), "s", 60*time.Hour)                     // goes; a layer cache of its own
	entry(fakeKeyTag('d'), "s", 70*time.Hour)                     // goes; layer cache = key a's
	entry(fakeKeyTag('f'), "t", time.Hour)                        // kept: the newest of t
	entry(fakeKeyTag('f')+"-0123456789abcdef", "t", 80*time.Hour) // an old generation of key f: goes
	scopeCache := cache.ScopeTag("s")
	shared := pushLayerCache(t, repo, scopeCache, cache.KeyCacheTag(key('b')))
	aCache := pushLayerCache(t, repo, cache.KeyCacheTag(key('a')), cache.KeyCacheTag(key('d')))
	own := pushLayerCache(t, repo, cache.KeyCacheTag(key('c')))
	pushLayerCache(t, repo, cache.KeyCacheTag(key('f')))

	r := runDevcache(t, "prune", "--cache-repo", repo, "--older-than", "24h", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "would delete layer cache "+ref(cache.KeyCacheTag(key('c')))+" ("+own+")") ||
		!strings.Contains(r.stdout, "would delete tag "+ref(cache.KeyCacheTag(key('b')))+" ("+shared+"; the manifest stays for "+ref(scopeCache)) ||
		!strings.Contains(r.stdout, "would delete tag "+ref(cache.KeyCacheTag(key('d')))) ||
		strings.Contains(r.stdout, cache.KeyCacheTag(key('a'))+" (") || strings.Contains(r.stdout, cache.KeyCacheTag(key('f'))) {
		t.Fatalf("dry run: %s", r)
	}
	for _, c := range "abcdf" {
		if !tagExists(t, ref(cache.KeyCacheTag(key(byte(c))))) {
			t.Errorf("dry run deleted the layer cache of key %c", c)
		}
	}

	r = runDevcache(t, "prune", "--cache-repo", repo, "--older-than", "24h", "--format", "json")
	var rep pruneReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || len(rep.Deleted) != 4 {
		t.Fatalf("prune: %v\n%s", err, r)
	}
	want := []prunedLayerCache{
		{Ref: ref(cache.KeyCacheTag(key('b'))), Digest: shared, SharedWith: ref(scopeCache), Deleted: true},
		{Ref: ref(cache.KeyCacheTag(key('c'))), Digest: own, Deleted: true},
		{Ref: ref(cache.KeyCacheTag(key('d'))), Digest: aCache, SharedWith: ref(cache.KeyCacheTag(key('a'))), Deleted: true},
	}
	if !slices.Equal(rep.LayerCaches, want) {
		t.Errorf("layerCaches = %+v, want %+v", rep.LayerCaches, want)
	}
	for tag, want := range map[string]bool{
		scopeCache: true, cache.KeyCacheTag(key('a')): true, cache.KeyCacheTag(key('f')): true,
		cache.KeyCacheTag(key('b')): false, cache.KeyCacheTag(key('c')): false, cache.KeyCacheTag(key('d')): false,
	} {
		if got := tagExists(t, ref(tag)); got != want {
			t.Errorf("%s exists = %v, want %v", tag, got, want)
		}
	}
	for d, want := range map[string]bool{shared: true, aCache: true, own: false} {
		if got := tagExists(t, repo+"@"+d); got != want {
			t.Errorf("manifest %s exists = %v, want %v", d, got, want)
		}
	}
}
