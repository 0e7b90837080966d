package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devcache/devcache/internal/registrytest"
	"github.com/devcache/devcache/internal/stack"
	"github.com/devcache/devcache/internal/stack/stacktest"
	"github.com/devcache/devcache/plugin/cache"
)

// TestPushConcurrentDiffering: two fresh daemons push one key at once, for
// a config whose feature writes random bytes (so each build is a
// different image). A proxy in front of the cache registry makes both
// find the key tag absent and both write it, the second a second after
// the first. Both commands then report the one digest the tag holds at
// the end; the push whose image did not stand says so on stderr.
func TestPushConcurrentDiffering(t *testing.T) {
	s := stacktest.Get(t)
	proxy := registrytest.StartRace(t, s.Registry, cache.IsKeyTag)
	nonce := fmt.Sprint(time.Now().UnixNano())
	ws := featureWorkspace(t, s.Ref("busybox:latest"), nonce,
		"#!/bin/sh\nset -e\nhead -c 32 /dev/urandom | od -An -tx1 > /feature-c-random\n")
	repo := proxy.Host + "/e2e/push-race"
	daemons := []*stack.Stack{freshDaemon(t), freshDaemon(t)}

	type result struct {
		Ref, KeyTag string
		Stored      bool
		stderr      string
	}
	results := make([]result, len(daemons))
	var wg sync.WaitGroup
	for i, d := range daemons {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, errOut, err := runErr(ws, []string{"DOCKER_CONFIG=" + t.TempDir(), "BUILDKIT_HOST=" + d.BuildkitAddr},
				pluginBinary(t), "push", "--cache-repo", repo, "--progress", "quiet", "--format", "json")
			if err != nil {
				t.Errorf("push %d: %v\n%s", i, err, lastLines(errOut, 30))
				return
			}
			if err := json.Unmarshal([]byte(out), &results[i]); err != nil {
				t.Errorf("push %d printed %q: %v", i, out, err)
			}
			results[i].stderr = errOut
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	puts := proxy.Puts()
	if proxy.Pairs() < 2 || len(puts) != 2 || puts[0] == puts[1] {
		t.Fatalf("no race of two different images: pairs=%d, key tag PUTs %q", proxy.Pairs(), puts)
	}
	if results[0].Ref != results[1].Ref {
		t.Errorf("the pushes report different images: %s, %s", results[0].Ref, results[1].Ref)
	}
	_, held := imageConfig(t, results[0].KeyTag)
	stored := 0
	for i, r := range results {
		if !strings.HasSuffix(r.Ref, "@"+held.String()) {
			t.Errorf("push %d reported %s; %s holds %s", i, r.Ref, r.KeyTag, held)
		}
		if r.Stored {
			stored++
		} else if !strings.Contains(r.stderr, "was stored by another push meanwhile") {
			t.Errorf("push %d, whose image did not stand, said nothing on stderr:\n%s", i, lastLines(r.stderr, 10))
		}
	}
	if stored != 1 {
		t.Errorf("%d pushes say they stored the key, want 1: %+v", stored, results)
	}
}
