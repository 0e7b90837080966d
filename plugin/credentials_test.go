package plugin

import (
	"strings"
	"testing"
	"time"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/internal/registrytest"
	dccache "github.com/devcache/devcache/plugin/cache"
)

// TestNoCredentialsOverPlainHTTPBeforeChallenge: the docker config holds
// credentials for a plain-HTTP registry that lets anyone read; probe, plan,
// lock and prune --dry-run resolve and look up through it without ever
// sending an Authorization header (go-containerregistry alone would send
// them after its anonymous ping), and the probe's lookup stays one HEAD.
func TestNoCredentialsOverPlainHTTPBeforeChallenge(t *testing.T) {
	isolate(t)
	reg := resolvetest.StartRegistry(t)
	proxy := registrytest.Start(t, reg.Host, registrytest.AnonymousRead())
	reg.PushImage(t, "base/debian:12", resolvetest.ImageConfig{})
	ws := imageWorkspace(t, `{"image": "`+proxy.Host+`/base/debian:12"}`)
	cache := proxy.Host + "/team/cache"
	tag := dccache.KeyTag([]*plan.Plan{planFor(t, ws)})
	digest := pushEntry(t, reg.Host+"/team/cache", tag, time.Now(), nil)
	t.Setenv("DOCKER_CONFIG", proxy.DockerConfig(t, registrytest.Reader, registrytest.ReaderPassword))

	proxy.Requests()
	r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache)
	if r.code != 0 || r.stdout != "DEVCACHE_CACHED_IMAGE="+cache+"@"+digest+"\n" {
		t.Fatalf("probe: %s", r)
	}
	heads := 0
	for _, q := range proxy.Requests() {
		if strings.Contains(q, "/v2/team/cache/manifests/") {
			heads++
		}
		if !strings.HasPrefix(q, "- ") {
			t.Errorf("probe sent credentials unasked over plain HTTP: %q", q)
		}
	}
	if heads != 1 {
		t.Errorf("probe looked the key tag up with %d requests, want 1", heads)
	}
	for _, args := range [][]string{
		{"plan", "--workspace-folder", ws},
		{"lock", "--workspace-folder", ws},
		{"prune", "--cache-repo", cache, "--older-than", "1ns", "--dry-run"},
	} {
		if r := runDevcache(t, args...); r.code != 0 {
			t.Fatalf("%s: %s", args[0], r)
		}
		for _, q := range proxy.Requests() {
			if !strings.HasPrefix(q, "- ") {
				t.Errorf("%s sent credentials unasked over plain HTTP: %q", args[0], q)
			}
		}
	}
}

// TestProbeRetriesAnonymousNotFoundWithCredentials: a registry that
// answers 404 to anonymous requests (hiding private repositories) is asked
// again with the docker config's credentials before probe reports a miss;
// without credentials the anonymous 404 is the miss, in one request.
func TestProbeRetriesAnonymousNotFoundWithCredentials(t *testing.T) {
	isolate(t)
	reg := resolvetest.StartRegistry(t)
	proxy := registrytest.Start(t, reg.Host, registrytest.AnonymousNotFound())
	reg.PushImage(t, "base/debian:12", resolvetest.ImageConfig{})
	ws := imageWorkspace(t, `{"image": "`+reg.Host+`/base/debian:12"}`)
	cache := proxy.Host + "/team/cache"
	tag := dccache.KeyTag([]*plan.Plan{planFor(t, ws)})
	digest := pushEntry(t, reg.Host+"/team/cache", tag, time.Now(), nil)
	keyHead := "HEAD /v2/team/cache/manifests/" + tag + " "

	proxy.Requests()
	r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache)
	if reqs := proxy.Requests(); r.code != 1 || len(reqs) != 1 || reqs[0] != "- "+keyHead+"404" {
		t.Fatalf("probe without credentials: %s\nrequests %q, want one anonymous 404", r, reqs)
	}

	t.Setenv("DOCKER_CONFIG", proxy.DockerConfig(t, registrytest.Reader, registrytest.ReaderPassword))
	r = runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache)
	if r.code != 0 || r.stdout != "DEVCACHE_CACHED_IMAGE="+cache+"@"+digest+"\n" {
		t.Fatalf("probe with credentials: %s", r)
	}
	reqs := proxy.Requests()
	if len(reqs) < 2 || reqs[0] != "- "+keyHead+"404" || reqs[len(reqs)-1] != registrytest.Reader+" "+keyHead+"200" {
		t.Errorf("requests %q: want the anonymous 404, then the reader's HEAD", reqs)
	}
}
