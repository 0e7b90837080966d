package plugin

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/internal/registrytest"
	dccache "github.com/devcache/devcache/plugin/cache"
)

// TestProbeReadOnlyCredentials: behind a proxy that lets "reader" only GET
// and HEAD, probe hits with the reader's docker config and sends nothing
// but reads; the same credentials cannot push an entry (what push would
// do) nor prune; without credentials probe is an error, not a miss.
func TestProbeReadOnlyCredentials(t *testing.T) {
	isolate(t)
	reg := resolvetest.StartRegistry(t)
	proxy := registrytest.Start(t, reg.Host)
	reg.PushImage(t, "base/debian:12", resolvetest.ImageConfig{})
	ws := imageWorkspace(t, `{"image": "`+reg.Host+`/base/debian:12"}`)
	cache := proxy.Host + "/team/cache"
	tag := dccache.KeyTag([]*plan.Plan{planFor(t, ws)})
	digest := pushEntry(t, reg.Host+"/team/cache", tag, time.Now(), map[string]string{dccache.AnnotationCreated: time.Now().UTC().Format(time.RFC3339)})

	t.Setenv("DOCKER_CONFIG", proxy.DockerConfig(t, registrytest.Reader, registrytest.ReaderPassword))
	proxy.Requests()
	r := runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache, "--max-age", "1h")
	if r.code != 0 || r.stdout != "DEVCACHE_CACHED_IMAGE="+cache+"@"+digest+"\n" {
		t.Fatalf("read-only probe: %s", r)
	}
	for _, q := range proxy.Requests() {
		anonymousChallenged := strings.HasPrefix(q, "- ") && strings.HasSuffix(q, " 401")
		if !strings.HasPrefix(q, "reader GET ") && !strings.HasPrefix(q, "reader HEAD ") && !anonymousChallenged {
			t.Errorf("probe sent %q", q)
		}
	}

	// What push does with these credentials: refused.
	img, _ := random.Image(64, 1)
	ref, _ := name.ParseReference(cache + ":" + fakeKeyTag('e'))
	err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: registrytest.Reader, Password: registrytest.ReaderPassword}))
	var te *transport.Error
	if !errors.As(err, &te) || te.StatusCode != http.StatusForbidden {
		t.Errorf("push with read-only credentials: %v, want 403", err)
	}
	r = runDevcache(t, "prune", "--cache-repo", cache, "--older-than", "1ns", "--keep", "0")
	if r.code == 0 || !strings.Contains(r.stderr, "may not delete (403)") {
		t.Errorf("prune with read-only credentials: %s", r)
	}

	// No credentials: 401, exit 2.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	r = runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", cache)
	if r.code != 2 || !strings.Contains(r.stderr, "401") && !strings.Contains(r.stderr, "UNAUTHORIZED") {
		t.Errorf("anonymous probe: %s", r)
	}
}
