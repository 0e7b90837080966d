package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/internal/disktest"
	"github.com/devcache/devcache/internal/registrytest"
	"github.com/devcache/devcache/internal/stack"
	"github.com/devcache/devcache/internal/stack/stacktest"
)

// Paths of the requests a push makes, as the fault rules match them. The
// image's blobs and manifest are pushed by BuildKit (by digest), the key
// tag, the build info (the referrers fallback tag sha256-<hex> on
// registries without the referrers API) and the reads by the plugin.
const (
	blobUploadPath    = `/blobs/uploads/`
	imageManifestPath = `/manifests/sha256:`
	keyTagPath        = `/manifests/dc-`
	cacheExportPath   = `/manifests/cache-`
	buildInfoPath     = `/manifests/sha256-`
)

// TestPushFaults: with the registry failing one kind of request of a push,
// the push fails (and leaves a miss) when the image or its key tag could
// not be stored, and succeeds with a warning when only the layer cache or
// the build info could not; transient failures are retried. In every case
// probe then answers a miss or a hit on a complete image, and a push
// without faults completes.
func TestPushFaults(t *testing.T) {
	s := stacktest.Get(t)
	p := registrytest.StartFaults(t, s.Registry)
	for _, c := range []struct {
		name    string
		fault   registrytest.Fault
		ok      bool   // the push succeeds
		warning string // …and warns so; or, failing, says so
	}{
		{"blob upload 500", registrytest.Fault{Method: "PUT", Path: blobUploadPath, Status: 500}, false, ""},
		// BuildKit does not retry a 429; push solves again.
		{"blob upload 429", registrytest.Fault{Method: "PUT", Path: blobUploadPath, Status: 429, Times: 1}, true, ""},
		{"blob upload reset twice", registrytest.Fault{Method: "PUT", Path: blobUploadPath, Reset: true, Times: 2}, true, ""},
		{"image manifest 500", registrytest.Fault{Method: "PUT", Path: imageManifestPath, Status: 500}, false, ""},
		{"key tag 500", registrytest.Fault{Method: "PUT", Path: keyTagPath, Status: 500}, false, "tagging"},
		// BuildKit pushed the image, but a blob is missing at read-back
		// (a HEAD 404): the key tag is not written.
		{"blob missing at read-back", registrytest.Fault{Method: "HEAD", Path: `/blobs/sha256:`, Status: 404}, false, "incomplete in the registry"},
		{"key tag 503 twice", registrytest.Fault{Method: "PUT", Path: keyTagPath, Status: 503, Times: 2}, true, ""},
		{"key tag 429", registrytest.Fault{Method: "PUT", Path: keyTagPath, Status: 429, RetryAfter: "1", Times: 1}, true, ""},
		{"key tag reset", registrytest.Fault{Method: "PUT", Path: keyTagPath, Reset: true, Times: 2}, true, ""},
		{"cache export 500", registrytest.Fault{Method: "PUT", Path: cacheExportPath, Status: 500}, true, "the layer cache export to"},
		{"build info 500", registrytest.Fault{Method: "PUT", Path: buildInfoPath, Status: 500}, true, "build info"},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			ws := pushWorkspace(t, s.Ref("busybox:latest"), fmt.Sprint(time.Now().UnixNano()), "echo three > /three")
			repo := p.Host + "/e2e/faults"
			p.Clear()
			rule := p.Add(c.fault)
			code, out, errOut := exitCode(t, ws, s.BuildkitAddr, "push", "--cache-repo", repo, "--progress", "plain", "--format", "json", "--timeout", "60s")
			p.Clear()
			if rule.Hits() == 0 {
				t.Fatalf("the fault was never applied; requests: %q", p.Requests())
			}
			switch {
			case c.ok && code != 0, !c.ok && code == 0:
				t.Fatalf("push exit %d, want success %v:\n%s\n%s", code, c.ok, out, lastLines(errOut, 30))
			case !c.ok:
				if !strings.Contains(errOut, c.warning) {
					t.Errorf("the failed push does not say %q:\n%s", c.warning, lastLines(errOut, 10))
				}
			case c.warning != "":
				var res struct{ Warnings []string }
				if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Warnings) == 0 ||
					!strings.Contains(strings.Join(res.Warnings, "\n"), c.warning) || !strings.Contains(errOut, "warning: ") {
					t.Errorf("no warning %q: %s (%v)\n%s", c.warning, out, err, lastLines(errOut, 10))
				}
			}
			if got := probeState(t, ws, s.BuildkitAddr, repo); (got == 0) != c.ok {
				t.Errorf("probe exit %d after a push that succeeded: %v", got, c.ok)
			}
			// Without faults, a push completes and leaves a complete hit.
			devcache(t, ws, s.BuildkitAddr, nil, "push", "--cache-repo", repo, "--progress", "quiet")
			if got := probeState(t, ws, s.BuildkitAddr, repo); got != 0 {
				t.Errorf("probe exit %d after the push without faults", got)
			}
		})
	}
}

// TestPushKilled: a push killed with SIGKILL during the build, during the
// image's upload and after the image but before its key tag leaves a
// miss, and during the layer cache export a miss or a hit on the complete
// image (never a key tag on an incomplete image); the next push
// completes, reusing what was uploaded.
func TestPushKilled(t *testing.T) {
	s := stacktest.Get(t)
	p := registrytest.StartFaults(t, s.Registry)
	repo := p.Host + "/e2e/killed"
	allUploads := 0
	for _, c := range []struct {
		name   string
		third  string             // the last RUN step
		hold   registrytest.Fault // held (Hang) to stop the push at the point
		marker string             // or: kill once stderr shows this
	}{
		{name: "during build", third: "sleep 8", marker: "RUN sleep 8"},
		{name: "during image upload", third: "echo three > /three", hold: registrytest.Fault{Method: "PUT", Path: blobUploadPath, Hang: true}},
		{name: "before key tag", third: "echo three > /three", hold: registrytest.Fault{Method: "PUT", Path: keyTagPath, Hang: true}},
		// The registry layer cache is exported while the key tag's
		// claim settles: the tag may be written, on the complete image.
		{name: "during cache export", third: "echo three > /three", hold: registrytest.Fault{Method: "PUT", Path: cacheExportPath, Hang: true}},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			ws := pushWorkspace(t, s.Ref("busybox:latest"), fmt.Sprint(time.Now().UnixNano()), c.third)
			p.Clear()
			p.Requests()
			var rule *registrytest.Rule
			if c.hold.Hang {
				rule = p.Add(c.hold)
			}
			k := startPush(t, ws, s.BuildkitAddr, "--cache-repo", repo)
			k.killWhen(t, c.name, func() bool {
				if rule != nil {
					return rule.Hits() > 0
				}
				return strings.Contains(k.output(), c.marker)
			})
			p.Clear()
			// The killed push's held requests end with their connections
			// (BuildKit's with the solve the kill cancels); release any
			// left so that they cannot block the rerun.
			for deadline := time.Now().Add(30 * time.Second); p.Holding() > 0 && time.Now().Before(deadline); {
				time.Sleep(100 * time.Millisecond)
			}
			if n := p.Holding(); n > 0 {
				t.Logf("%d requests still held 30s after the kill; releasing them", n)
			}
			p.Release()
			firstUploads := p.Count("PUT", blobUploadPath)
			// probeState accepts a hit on a complete image only; before
			// the cache export the key tag is not written yet: a miss.
			if got := probeState(t, ws, s.BuildkitAddr, repo); got != 1 && c.name != "during cache export" {
				t.Errorf("probe exit %d after the kill; want a miss", got)
			}
			p.Requests()
			devcache(t, ws, s.BuildkitAddr, nil, "push", "--cache-repo", repo, "--progress", "quiet")
			if got := probeState(t, ws, s.BuildkitAddr, repo); got != 0 {
				t.Errorf("probe exit %d after the rerun", got)
			}
			rerunUploads := p.Count("PUT", blobUploadPath)
			t.Logf("blob uploads: %d before the kill, %d by the rerun", firstUploads, rerunUploads)
			// The push killed during the build uploaded nothing: its rerun
			// uploads everything (image and layer cache). The rerun of one
			// killed after its image uploads less.
			if c.name == "during build" {
				allUploads = rerunUploads
			}
			if c.name == "before key tag" && rerunUploads >= allUploads {
				t.Errorf("the rerun uploaded %d blobs, a push from scratch %d: nothing reused", rerunUploads, allUploads)
			}
		})
	}
}

// TestPushConcurrentFreshDaemons: four fresh daemons (CI runners) push one
// key at once through the proxy; all succeed and report the one entry,
// which is complete.
func TestPushConcurrentFreshDaemons(t *testing.T) {
	s := stacktest.Get(t)
	p := registrytest.StartFaults(t, s.Registry)
	ws := pushWorkspace(t, s.Ref("busybox:latest"), fmt.Sprint(time.Now().UnixNano()), "echo three > /three")
	repo := p.Host + "/e2e/push-four"
	daemons := make([]*stack.Stack, 4)
	for i := range daemons {
		daemons[i] = freshDaemon(t)
	}
	refs := make([]string, len(daemons))
	var keyTag string
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, d := range daemons {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, out, errOut := exitCode(t, ws, d.BuildkitAddr, "push", "--cache-repo", repo, "--progress", "quiet", "--format", "json")
			var res struct{ Ref, KeyTag string }
			if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil {
				t.Errorf("push %d: exit %d (%v)\n%s", i, code, err, lastLines(errOut, 20))
				return
			}
			mu.Lock()
			refs[i], keyTag = res.Ref, res.KeyTag
			mu.Unlock()
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, r := range refs[1:] {
		if r != refs[0] {
			t.Errorf("the pushes report different entries: %q", refs)
		}
	}
	requireComplete(t, keyTag)
	if _, d := imageConfig(t, keyTag); !strings.HasSuffix(refs[0], d.String()) {
		t.Errorf("%s holds %s; pushes reported %s", keyTag, d, refs[0])
	}
	if got := probeState(t, ws, s.BuildkitAddr, repo); got != 0 {
		t.Errorf("probe exit %d", got)
	}
}

// TestPushCacheDirDiskFull: a push whose --cache-dir is on a full
// filesystem fails with an error naming --cache-dir and the full disk,
// leaves a miss and no corrupt layer cache index, and once there is space
// the next push stores a complete entry.
func TestPushCacheDirDiskFull(t *testing.T) {
	s := stacktest.Get(t)
	full := disktest.Full(t, 32)
	ws := pushWorkspace(t, s.Ref("busybox:latest"), fmt.Sprint(time.Now().UnixNano()), "head -c 100000 /dev/urandom > /big")
	repo := s.Ref("e2e/disk-full")
	cacheDir := filepath.Join(full, "layers")
	code, out, errOut := exitCode(t, ws, s.BuildkitAddr, "push", "--cache-repo", repo, "--cache-dir", cacheDir, "--progress", "plain", "--format", "json")
	if code == 0 || !strings.Contains(errOut, "--cache-dir "+cacheDir) || !strings.Contains(errOut, "no space left on device") {
		t.Fatalf("push exit %d, want an error naming --cache-dir and the full disk:\n%s\n%s", code, out, lastLines(errOut, 10))
	}
	if got := probeState(t, ws, s.BuildkitAddr, repo); got != 1 {
		t.Errorf("probe exit %d after the failed push; want a miss", got)
	}
	if b, err := os.ReadFile(filepath.Join(cacheDir, "index.json")); err == nil && !json.Valid(b) {
		t.Errorf("the layer cache index is corrupt: %q", b)
	}

	if err := os.Remove(disktest.Filler(full)); err != nil {
		t.Fatal(err)
	}
	devcache(t, ws, s.BuildkitAddr, nil, "push", "--cache-repo", repo, "--cache-dir", cacheDir, "--progress", "quiet")
	if got := probeState(t, ws, s.BuildkitAddr, repo); got != 0 {
		t.Errorf("probe exit %d after the push with space", got)
	}
	if b, err := os.ReadFile(filepath.Join(cacheDir, "index.json")); err != nil || !json.Valid(b) {
		t.Errorf("the layer cache index after the push with space: %q (%v)", b, err)
	}
}

// TestPushClaimsBeforeLayerCache: the key tag does not wait for the
// registry layer cache. With the cache export's manifest PUT held, the
// entry becomes a hit on its complete image while the push still runs;
// released, the push ends without a warning and the layer caches exist.
func TestPushClaimsBeforeLayerCache(t *testing.T) {
	s := stacktest.Get(t)
	p := registrytest.StartFaults(t, s.Registry)
	repo := p.Host + "/e2e/claim-first"
	ws := pushWorkspace(t, s.Ref("busybox:latest"), fmt.Sprint(time.Now().UnixNano()), "echo three > /three")
	rule := p.Add(registrytest.Fault{Method: "PUT", Path: cacheExportPath, Hang: true})
	k := startPush(t, ws, s.BuildkitAddr, "--cache-repo", repo, "--format", "json")
	deadline := time.Now().Add(3 * time.Minute)
	for rule.Hits() == 0 || probeState(t, ws, s.BuildkitAddr, repo) != 0 {
		select {
		case err := <-k.done:
			t.Fatalf("the push ended (%v) before its key tag was a hit while the layer cache was held:\n%s", err, lastLines(k.output(), 30))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no hit within 3 minutes while the layer cache export was held (held %d requests):\n%s", rule.Hits(), lastLines(k.output(), 30))
		}
	}
	p.Clear()
	p.Release()
	select {
	case err := <-k.done:
		if err != nil {
			t.Fatalf("push: %v\n%s", err, lastLines(k.output(), 30))
		}
	case <-time.After(3 * time.Minute):
		t.Fatalf("the push did not end within 3 minutes of the release:\n%s", lastLines(k.output(), 30))
	}
	if out := k.output(); strings.Contains(out, "warning:") {
		t.Errorf("push warned:\n%s", lastLines(out, 30))
	}
	r, err := name.NewRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	tags, err := remote.List(r)
	if err != nil {
		t.Fatal(err)
	}
	var scopeCache, keyCache bool
	for _, tag := range tags {
		keyCache = keyCache || strings.HasPrefix(tag, "cache-dc-")
		scopeCache = scopeCache || strings.HasPrefix(tag, "cache-") && !strings.HasPrefix(tag, "cache-dc-")
	}
	if !scopeCache || !keyCache {
		t.Errorf("layer caches missing after the push (scope's %v, key's %v): tags %q", scopeCache, keyCache, tags)
	}
}
