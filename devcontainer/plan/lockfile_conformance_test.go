package plan_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/lockfile"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve"
	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
)

func write(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

type lockFixture struct {
	ws, cfg  string
	reg      *resolvetest.Registry
	files    *resolvetest.Files
	a1, b    resolvetest.Published
	tgzURL   string
	resolver func() *testResolver
}

// newLockFixture: OCI features a (dependsOn b) and b on a loopback registry,
// plus a tarball feature, referenced with an upper-case key.
func newLockFixture(t *testing.T) *lockFixture {
	f := &lockFixture{reg: resolvetest.StartRegistry(t), files: resolvetest.StartFiles(t)}
	src := t.TempDir()
	ns := f.reg.Host + "/codspace/dependson"
	write(t, filepath.Join(src, "b", "devcontainer-feature.json"), `{"id":"b","version":"2.0.0","options":{"magicNumber":{"type":"string","default":"0"}}}`)
	write(t, filepath.Join(src, "b", "install.sh"), "true\n")
	f.b = f.reg.PublishFeature(t, filepath.Join(src, "b"), "codspace/dependson/b", nil, "2", "latest")
	write(t, filepath.Join(src, "a", "devcontainer-feature.json"), `{"id":"a","version":"1.0.0","dependsOn":{"`+ns+`/B:2":{"magicNumber":"7"}}}`)
	write(t, filepath.Join(src, "a", "install.sh"), "true\n")
	f.a1 = f.reg.PublishFeature(t, filepath.Join(src, "a"), "codspace/dependson/a", nil, "1", "latest")
	write(t, filepath.Join(src, "t", "devcontainer-feature.json"), `{"id":"tgz","version":"2.0.0"}`)
	write(t, filepath.Join(src, "t", "install.sh"), "true\n")
	f.tgzURL = f.files.Put("/r/devcontainer-feature-tgz.tgz", resolvetest.FeatureTar(t, filepath.Join(src, "t")))
	f.ws = filepath.Join(t.TempDir(), "ws")
	f.cfg = filepath.Join(f.ws, ".devcontainer", "devcontainer.json")
	write(t, f.cfg, `{"image":"devcache.test/base:1","features":{"`+strings.ToUpper(ns)+`/A:1":{},"`+f.tgzURL+`":{},"./local":{}}}`)
	write(t, filepath.Join(f.ws, ".devcontainer", "local", "devcontainer-feature.json"), `{"id":"local"}`)
	cache := t.TempDir()
	f.resolver = func() *testResolver {
		return newResolver(t, resolve.Options{CacheDir: cache, HTTPClient: f.files.Client})
	}
	return f
}

func (f *lockFixture) plan(t *testing.T, mode plan.LockMode) (*plan.Result, error) {
	return planFor(t, f.ws, f.resolver(), plan.Options{Lock: mode})
}

// C21: the generated lockfile, byte for byte: keys sorted with locale
// collation (case is only a tertiary difference: "LOCALHOST…/A" < "localhost…/B")
// in the user's case, resolved/integrity, the tarball's digest,
// dependsOn keys as written, local features left out, trailing newline.
func TestC21LockfileGeneration(t *testing.T) {
	f := newLockFixture(t)
	res, err := f.plan(t, plan.LockUse)
	if err != nil {
		t.Fatal(err)
	}
	ns := f.reg.Host + "/codspace/dependson"
	tgzDigest := res.Plan.Features[0].Source.SHA256
	for _, pf := range res.Plan.Features {
		if pf.Source.URL != "" {
			tgzDigest = pf.Source.SHA256
		}
	}
	want := `{
  "features": {
    "` + f.tgzURL + `": {
      "version": "2.0.0",
      "resolved": "` + f.tgzURL + `",
      "integrity": "` + tgzDigest + `"
    },
    "` + strings.ToUpper(ns) + `/A:1": {
      "version": "1.0.0",
      "resolved": "` + ns + `/a@` + f.a1.ManifestDigest + `",
      "integrity": "` + f.a1.ManifestDigest + `",
      "dependsOn": [
        "` + ns + `/B:2"
      ]
    },
    "` + ns + `/B:2": {
      "version": "2.0.0",
      "resolved": "` + ns + `/b@` + f.b.ManifestDigest + `",
      "integrity": "` + f.b.ManifestDigest + `"
    }
  }
}
`
	if got := string(res.Lockfile.Bytes()); got != want {
		t.Errorf("lockfile:\n%s\nwant:\n%s", got, want)
	}
	if p := lockfile.Path(f.cfg); p != filepath.Join(f.ws, ".devcontainer", "devcontainer-lock.json") {
		t.Errorf("path %s", p)
	}
	if p := lockfile.Path(filepath.Join(f.ws, ".devcontainer.json")); p != filepath.Join(f.ws, ".devcontainer-lock.json") {
		t.Errorf("dot path %s", p)
	}
}

// C22: frozen mode and the lockfile's pins.
func TestC22LockfileModes(t *testing.T) {
	f := newLockFixture(t)
	lockPath := lockfile.Path(f.cfg)
	if _, err := f.plan(t, plan.LockFrozen); !errors.Is(err, lockfile.ErrDoesNotExist) || err.Error() != "Lockfile does not exist." {
		t.Fatalf("missing + frozen: %v", err)
	}
	res, err := f.plan(t, plan.LockUse)
	if err != nil {
		t.Fatal(err)
	}
	generated := res.Lockfile.Bytes()

	// Empty file: an initialise marker; frozen does not match.
	write(t, lockPath, "  \n")
	st, _ := lockfile.Read(lockPath)
	if !st.Init {
		t.Error("empty file is not the init marker")
	}
	if w, err := lockfile.Check(st, res.Lockfile, false); !w || err != nil {
		t.Errorf("empty file must be written: %v %v", w, err)
	}
	if _, err := f.plan(t, plan.LockFrozen); !errors.Is(err, lockfile.ErrDoesNotMatch) {
		t.Errorf("empty + frozen: %v", err)
	}

	// The same content, formatted differently: frozen passes.
	write(t, lockPath, strings.NewReplacer("\n", "\r\n", "  ", "\t").Replace(string(generated)))
	if _, err := f.plan(t, plan.LockFrozen); err != nil {
		t.Errorf("reformatted + frozen: %v", err)
	}

	// Outdated (an entry missing): frozen fails, otherwise it is rewritten.
	lf, _ := lockfile.Parse("x", generated)
	lf.Features = lf.Features[1:]
	write(t, lockPath, string(lf.Bytes()))
	if _, err := f.plan(t, plan.LockFrozen); err == nil || err.Error() != "Lockfile does not match." {
		t.Errorf("outdated + frozen: %v", err)
	}
	st, _ = lockfile.Read(lockPath)
	if err := lockfile.Write(st, res.Lockfile, false); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(lockPath); string(b) != string(generated) {
		t.Errorf("rewritten:\n%s", b)
	}

	// A real pin: the tag moves, the lockfile's digest is still what is used.
	src := t.TempDir()
	write(t, filepath.Join(src, "devcontainer-feature.json"), `{"id":"a","version":"1.1.0"}`)
	write(t, filepath.Join(src, "install.sh"), "echo new\n")
	moved := f.reg.PublishFeature(t, src, "codspace/dependson/a", nil, "1")
	pinned, err := f.plan(t, plan.LockFrozen)
	if err != nil {
		t.Fatal(err)
	}
	var digests []string
	for _, pf := range pinned.Plan.Features {
		digests = append(digests, pf.Source.ManifestDigest)
	}
	if !strings.Contains(strings.Join(digests, " "), f.a1.ManifestDigest) || strings.Contains(strings.Join(digests, " "), moved.ManifestDigest) {
		t.Errorf("pinned digests %v, want %s not %s", digests, f.a1.ManifestDigest, moved.ManifestDigest)
	}
	unpinned, err := f.plan(t, plan.LockNone)
	if err != nil {
		t.Fatal(err)
	}
	if pinned.Plan.Key() == unpinned.Plan.Key() {
		t.Error("a moved tag must change the key when not pinned")
	}

	// Integrity mismatches are errors (lockfile-oci-integrity,
	// lockfile-tarball-integrity).
	bad := strings.Replace(string(generated), f.a1.ManifestDigest, "sha256:"+strings.Repeat("0", 64), -1)
	write(t, lockPath, bad)
	if _, err := f.plan(t, plan.LockUse); err == nil || !strings.Contains(err.Error(), "could not be processed") {
		t.Errorf("oci integrity: %v", err)
	}
	res2, _ := planFor(t, f.ws, f.resolver(), plan.Options{Lock: plan.LockNone})
	tgz := ""
	for _, pf := range res2.Plan.Features {
		if pf.Source.URL != "" {
			tgz = pf.Source.SHA256
		}
	}
	bad = strings.Replace(string(generated), tgz, "sha256:"+strings.Repeat("0", 64), -1)
	write(t, lockPath, bad)
	if _, err := f.plan(t, plan.LockUse); err == nil || !strings.Contains(err.Error(), "Digest did not match for "+f.tgzURL+".") {
		t.Errorf("tarball integrity: %v", err)
	}
}

// Pinned content comes from the disk cache: a second resolution with the
// lockfile makes no request at all.
func TestPinnedResolutionNeedsNoNetwork(t *testing.T) {
	f := newLockFixture(t)
	res, err := f.plan(t, plan.LockUse)
	if err != nil {
		t.Fatal(err)
	}
	write(t, lockfile.Path(f.cfg), string(res.Lockfile.Bytes()))
	f.reg.Requests()
	hits := f.files.Hits()
	again, err := f.plan(t, plan.LockFrozen)
	if err != nil {
		t.Fatal(err)
	}
	if r := f.reg.Requests(); len(r) != 0 {
		t.Errorf("registry requests with everything pinned and cached: %v", r)
	}
	if f.files.Hits() != hits {
		t.Errorf("tarball downloaded again")
	}
	if again.Plan.Key() != res.Plan.Key() || string(again.Plan.JSON()) != string(res.Plan.JSON()) {
		t.Error("the pinned plan differs")
	}
}

// Better than the reference: a soft dependency that no feature of the set
// can satisfy is not fetched (here its registry does not even exist).
func TestIrrelevantSoftDependencyNeedsNoNetwork(t *testing.T) {
	ws := t.TempDir()
	write(t, filepath.Join(ws, ".devcontainer", "devcontainer.json"), `{"image":"devcache.test/base:1","features":{"./a":{}},"overrideFeatureInstallOrder":["unreachable.invalid/x/y"]}`)
	write(t, filepath.Join(ws, ".devcontainer", "a", "devcontainer-feature.json"), `{"id":"a","installsAfter":["unreachable.invalid/devcontainers/features/common-utils","./not-there"]}`)
	res, err := planFor(t, ws, newResolver(t, resolve.Options{}), plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Plan.Features) != 1 {
		t.Errorf("features %v", res.Plan.Features)
	}
}
