package registrytest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/devcache/devcache/internal/registrytest"
)

// TestFaultProxyRules: Times and Every choose which matching requests are
// faulted, Count and the rule's counters count them, a held request waits
// until Release, a reset is a transport error and a truncated body a short
// read.
func TestFaultProxyRules(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	t.Cleanup(srv.Close)
	p := registrytest.StartFaults(t, strings.TrimPrefix(srv.URL, "http://"))
	get := func(path string) (int, error) {
		resp, err := http.Get("http://" + p.Host + path)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		return resp.StatusCode, nil
	}

	twice := p.Add(registrytest.Fault{Path: `^/v2/$`, Status: 503, RetryAfter: "1", Times: 2})
	var codes []int
	for range 3 {
		c, _ := get("/v2/")
		codes = append(codes, c)
	}
	if codes[0] != 503 || codes[1] != 503 || codes[2] != 200 || twice.Hits() != 2 || twice.Matched() != 3 {
		t.Errorf("Times 2: codes %v, hits %d, matched %d", codes, twice.Hits(), twice.Matched())
	}
	p.Clear()
	third := p.Add(registrytest.Fault{Method: "GET", Path: `/tags/list`, Status: 429, Every: 3})
	for range 6 {
		get("/v2/x/tags/list")
	}
	if third.Hits() != 2 || p.Count("GET", `/tags/list$`) != 6 {
		t.Errorf("Every 3: hits %d, counted %d; requests %q", third.Hits(), p.Count("GET", `/tags/list$`), p.Requests())
	}

	p.Clear()
	p.Add(registrytest.Fault{Path: `/reset`, Reset: true})
	if _, err := get("/v2/reset"); err == nil {
		t.Errorf("a reset request succeeded")
	}

	p.Clear()
	p.Add(registrytest.Fault{Path: `^/v2/$`, Hang: true})
	done := make(chan int)
	go func() { c, _ := get("/v2/"); done <- c }()
	for deadline := time.Now().Add(10 * time.Second); p.Holding() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if p.Holding() != 1 {
		t.Fatalf("holding %d requests, want 1", p.Holding())
	}
	p.Release()
	if c := <-done; c != 200 || p.Holding() != 0 {
		t.Errorf("released request: %d, still holding %d", c, p.Holding())
	}

	// A held upload whose client goes away is dropped, not released.
	p.Clear()
	p.Add(registrytest.Fault{Method: "PUT", Path: `/uploads/`, Hang: true})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+p.Host+"/v2/x/blobs/uploads/1", strings.NewReader("data"))
	go http.DefaultClient.Do(req)
	for deadline := time.Now().Add(10 * time.Second); p.Holding() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	for deadline := time.Now().Add(10 * time.Second); p.Holding() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if p.Holding() != 0 {
		t.Errorf("an upload whose client left is still held")
	}
}
