package retry_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/internal/registrytest"
	"github.com/devcache/devcache/internal/retry"
)

// setup starts an in-process registry holding one image behind a fault
// proxy and returns the proxy and the image's tag through it.
func setup(t *testing.T) (*registrytest.FaultProxy, name.Tag) {
	t.Helper()
	srv := httptest.NewServer(registry.New())
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	direct, _ := name.NewTag(host + "/r/img:1")
	if err := remote.Write(direct, img); err != nil {
		t.Fatal(err)
	}
	p := registrytest.StartFaults(t, host)
	tag, _ := name.NewTag(p.Host + "/r/img:1")
	return p, tag
}

func opts(ctx context.Context, p retry.Policy) []remote.Option {
	return append(retry.RemoteOptions(), remote.WithContext(ctx), remote.WithTransport(p.Transport(remote.DefaultTransport)))
}

var fast = retry.Policy{RequestTimeout: 500 * time.Millisecond, Base: 20 * time.Millisecond, Cap: 200 * time.Millisecond}

// TestTransientRetried: resets, 502, 503, 504, 429 and a truncated
// manifest, three times each, are retried and the call succeeds.
func TestTransientRetried(t *testing.T) {
	for _, f := range []registrytest.Fault{
		{Reset: true}, {Status: 502}, {Status: 503}, {Status: 504}, {Status: 429}, {Truncate: true, Method: "GET"},
	} {
		p, tag := setup(t)
		f.Path, f.Times = `/manifests/`, 3
		rule := p.Add(f)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if _, err := remote.Get(tag, opts(ctx, fast)...); err != nil {
			t.Errorf("%+v: %v", f, err)
		}
		cancel()
		if rule.Hits() != 3 {
			t.Errorf("%+v: faulted %d requests, want 3", f, rule.Hits())
		}
	}
}

// TestRetryAfterHonoured: a 429 asking for 2 s is asked again after about
// 2 s, not after the (20 ms) backoff.
func TestRetryAfterHonoured(t *testing.T) {
	p, tag := setup(t)
	p.Add(registrytest.Fault{Path: `/manifests/`, Status: 429, RetryAfter: "2", Times: 1})
	start := time.Now()
	if _, err := remote.Head(tag, opts(context.Background(), fast)...); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 1500*time.Millisecond {
		t.Errorf("retried after %s; Retry-After said 2s", d)
	}
}

// TestPermanentNotRetried: 400, 401, 403 and 404 are answered after one
// request, with the registry's message.
func TestPermanentNotRetried(t *testing.T) {
	for _, code := range []int{400, 401, 403, 404} {
		p, tag := setup(t)
		rule := p.Add(registrytest.Fault{Path: `/manifests/`, Status: code})
		_, err := remote.Head(tag, opts(context.Background(), fast)...)
		if err == nil || rule.Hits() != 1 {
			t.Errorf("%d: err %v after %d requests; want an error after 1", code, err, rule.Hits())
		}
		_, err = remote.Get(tag, opts(context.Background(), fast)...)
		if err == nil || !strings.Contains(err.Error(), "registrytest fault") {
			t.Errorf("%d: GET error %v lacks the registry's message", code, err)
		}
	}
}

// TestRetriedUntilDeadline: a registry that always resets is asked many
// times, until the context's deadline, and no longer (loose bound).
func TestRetriedUntilDeadline(t *testing.T) {
	p, tag := setup(t)
	rule := p.Add(registrytest.Fault{Path: `/manifests/`, Reset: true})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	_, err := remote.Head(tag, opts(ctx, fast)...)
	d := time.Since(start)
	var g *retry.GaveUpError
	if err == nil || (!errors.As(err, &g) && ctx.Err() == nil) {
		t.Fatalf("error %v; want a give-up", err)
	}
	if d < 2*time.Second || d > 10*time.Second {
		t.Errorf("gave up after %s; want about the 3s deadline", d)
	}
	if rule.Hits() < 5 {
		t.Errorf("only %d attempts in %s", rule.Hits(), d)
	}
}

// TestHangFailsPerRequest: a registry that never answers fails each
// attempt after RequestTimeout and the call after Stalls attempts, long
// before the deadline, with the per-request timeout named.
func TestHangFailsPerRequest(t *testing.T) {
	p, tag := setup(t)
	rule := p.Add(registrytest.Fault{Path: `/manifests/`, Hang: true})
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := remote.Head(tag, opts(ctx, fast)...)
	d := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "per-request timeout") {
		t.Fatalf("error %v; want the per-request timeout", err)
	}
	// 3 stalls of 0.5 s: far below the 2-minute deadline.
	if d > 20*time.Second || rule.Hits() != 3 {
		t.Errorf("gave up after %s and %d attempts; want 3 attempts of 0.5s", d, rule.Hits())
	}
}

// TestServerErrorReadRetriedFewTimes: a 500 on a read is asked again
// Policy.ServerErrors times (distribution's answer while another client
// writes the same manifest), then fails with the registry's message; a
// passing 500 is a success.
func TestServerErrorReadRetriedFewTimes(t *testing.T) {
	p, tag := setup(t)
	rule := p.Add(registrytest.Fault{Path: `/manifests/`, Status: 500})
	_, err := remote.Get(tag, opts(context.Background(), fast)...)
	if err == nil || !strings.Contains(err.Error(), "registrytest fault") || rule.Hits() != 3 {
		t.Errorf("err %v after %d requests; want the registry's message after 3", err, rule.Hits())
	}
	p, tag = setup(t)
	rule = p.Add(registrytest.Fault{Path: `/manifests/`, Status: 500, Times: 1})
	if _, err := remote.Head(tag, opts(context.Background(), fast)...); err != nil || rule.Hits() != 1 {
		t.Errorf("a single 500: err %v after %d faults; want success", err, rule.Hits())
	}
}
