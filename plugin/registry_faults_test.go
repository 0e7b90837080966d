package plugin

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devcache/devcache/internal/registrytest"
)

// faultyCache is imageEntryFixture with a fault proxy in front of the
// registry for the cache repository: the workspace, the cache repository
// through the proxy, the workspace's key tag and the proxy.
func faultyCache(t *testing.T) (ws, cache, tag string, p *registrytest.FaultProxy) {
	t.Helper()
	ws, direct, tag := imageEntryFixture(t)
	host, repo, _ := strings.Cut(direct, "/")
	p = registrytest.StartFaults(t, host)
	return ws, p.Host + "/" + repo, tag, p
}

// TestProbeResetRetriedUntilTimeout: a cache registry that resets every
// connection is asked again and again until --timeout (not three quick
// times), then probe exits 2 within --timeout and some slack.
func TestProbeResetRetriedUntilTimeout(t *testing.T) {
	ws, cache, _, p := faultyCache(t)
	rule := p.Add(registrytest.Fault{Path: `/manifests/dc-`, Reset: true})
	start := time.Now()
	r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache, "--timeout", "15s")
	d := time.Since(start)
	if r.code != 2 || strings.Contains(r.stderr, "miss") {
		t.Fatalf("%s", r)
	}
	if d < 8*time.Second || d > 30*time.Second {
		t.Errorf("probe gave up after %s; want about --timeout 15s", d)
	}
	// go-containerregistry alone tries 3 times in about 4 s. The policy's
	// backoff (250 ms doubling, jitter from half to all of each wait)
	// makes its 6th attempt by 7.75 s at the latest, and 7–9 in 15 s.
	if rule.Hits() < 6 {
		t.Errorf("the key tag was asked %d times in %s; want retries until --timeout", rule.Hits(), d)
	}
}

// TestProbeTransientThenHit: resets, 502, 503 and a 429 with Retry-After on
// the key tag, a few times each, end in a hit.
func TestProbeTransientThenHit(t *testing.T) {
	ws, cache, tag, p := faultyCache(t)
	digest := pushEntry(t, cache, tag, time.Now(), nil)
	for _, f := range []registrytest.Fault{{Reset: true}, {Status: 502}, {Status: 503}, {Status: 429, RetryAfter: "1"}} {
		p.Clear()
		f.Path, f.Times = `/manifests/dc-`, 2
		rule := p.Add(f)
		r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache, "--timeout", "60s")
		if r.code != 0 || !strings.Contains(r.stdout, digest) || rule.Hits() != 2 {
			t.Errorf("%+v (faulted %d): %s", f, rule.Hits(), r)
		}
	}
}

// TestProbeHangFailsPerRequest: a registry that accepts the connection and
// never answers fails the probe after --request-timeout × 3 attempts, far
// sooner than --timeout, naming the per-request timeout.
func TestProbeHangFailsPerRequest(t *testing.T) {
	ws, cache, _, p := faultyCache(t)
	rule := p.Add(registrytest.Fault{Path: `/manifests/dc-`, Hang: true})
	start := time.Now()
	r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache, "--request-timeout", "1s", "--timeout", "2m")
	d := time.Since(start)
	if r.code != 2 || !strings.Contains(r.stderr, "--request-timeout") {
		t.Fatalf("%s", r)
	}
	if d > 30*time.Second || rule.Hits() < 2 {
		t.Errorf("gave up after %s and %d attempts; want 3 attempts of 1s", d, rule.Hits())
	}
}

// TestProbeLoad429: 50 concurrent probes of one key through a proxy that
// answers every third key-tag request 429 (Retry-After: 1) each answer a
// hit or an error (exit 2), never a miss; with the retries, all hit.
func TestProbeLoad429(t *testing.T) {
	ws, cache, tag, p := faultyCache(t)
	digest := pushEntry(t, cache, tag, time.Now(), nil)
	rule := p.Add(registrytest.Fault{Path: `/manifests/dc-`, Status: 429, RetryAfter: "1", Every: 3})
	results := make([]cmdResult, 50)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache, "--timeout", "60s")
		}()
	}
	wg.Wait()
	hits := 0
	for i, r := range results {
		switch {
		case r.code == 0 && strings.Contains(r.stdout, digest):
			hits++
		case r.code == 2:
		default:
			t.Errorf("probe %d: %s", i, r)
		}
	}
	// Exit 2 would be a correct answer, but with retries until --timeout
	// every probe gets through the sprinkled 429s.
	if rule.Hits() == 0 || hits != len(results) {
		t.Errorf("%d hits of %d, %d 429s sent", hits, len(results), rule.Hits())
	}
	t.Logf("%d of 50 hits, %d answers 429", hits, rule.Hits())
}
