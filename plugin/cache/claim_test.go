package cache

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/internal/registrytest"
	"github.com/devcache/devcache/plugin/registry"
)

// TestClaimKeyTagRace: two pushes of one key with different images both
// find the key tag absent and both write it (forced by a proxy that
// answers the second's lookup a second after the first's); both then
// report the one digest the tag holds at the end, and only the push whose
// write stands says it stored it. With a registry whose tags are immutable
// the second write is refused and both report the first.
func TestClaimKeyTagRace(t *testing.T) {
	for _, immutable := range []bool{false, true} {
		t.Run(map[bool]string{false: "last-write-wins", true: "immutable-tags"}[immutable], func(t *testing.T) {
			testClaimRace(t, immutable)
		})
	}
}

func testClaimRace(t *testing.T, immutable bool) {
	var h http.Handler = ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	if immutable {
		h = immutableTags(h)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	proxy := registrytest.StartRace(t, strings.TrimPrefix(srv.URL, "http://"), IsKeyTag)
	ctx := context.Background()
	repo, _ := name.NewRepository(proxy.Host + "/team/devcache")
	reg, err := registry.New()
	if err != nil {
		t.Fatal(err)
	}
	tag := KeyTagPrefix + strings.Repeat("e", 64)
	built := []*remote.Descriptor{pushRandom(t, reg, repo), pushRandom(t, reg, repo)}

	type claim struct {
		final  string
		stored bool
		err    error
	}
	claims := make([]claim, 2)
	var wg sync.WaitGroup
	for i := range claims {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, stored, err := Claim(ctx, reg, repo, tag, built[i])
			claims[i] = claim{stored: stored, err: err}
			if d != nil {
				claims[i].final = d.Digest.String()
			}
		}()
	}
	wg.Wait()

	end, err := Lookup(ctx, reg, repo, tag)
	if err != nil || end == nil {
		t.Fatalf("the key tag at the end: %v, %v", end, err)
	}
	stored := 0
	for i, c := range claims {
		if c.err != nil {
			t.Errorf("claim %d: %v", i, c.err)
		}
		if c.final != end.Digest.String() {
			t.Errorf("claim %d reported %s; the tag holds %s", i, c.final, end.Digest)
		}
		if c.stored {
			stored++
			if built[i].Digest != end.Digest {
				t.Errorf("claim %d says it stored %s; the tag holds %s", i, built[i].Digest, end.Digest)
			}
		}
	}
	if stored != 1 {
		t.Errorf("%d claims say they stored the tag, want 1: %+v", stored, claims)
	}
	puts := proxy.Puts()
	if proxy.Pairs() < 1 || len(puts) != 2 || puts[0] == puts[1] {
		t.Errorf("the race did not happen: pairs=%d, key tag PUTs %q", proxy.Pairs(), puts)
	}
}

func pushRandom(t *testing.T, reg *registry.Client, repo name.Repository) *remote.Descriptor {
	t.Helper()
	ctx := context.Background()
	img, _ := random.Image(32, 1)
	d, _ := img.Digest()
	if err := remote.Write(repo.Digest(d.String()), img, reg.Options(ctx)...); err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(repo.Digest(d.String()), reg.Options(ctx)...)
	if err != nil {
		t.Fatal(err)
	}
	return desc
}

// immutableTags refuses a manifest PUT to a tag that exists, as registries
// with immutable tags do (ECR, Harbor, Artifact Registry).
func immutableTags(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") && !strings.Contains(r.URL.Path, "sha256:") {
			head := httptest.NewRecorder()
			next.ServeHTTP(head, httptest.NewRequest(http.MethodHead, r.URL.Path, nil))
			if head.Code == http.StatusOK {
				http.Error(w, `{"errors":[{"code":"TAG_INVALID","message":"tag is immutable"}]}`, http.StatusBadRequest)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
