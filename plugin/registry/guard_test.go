package registry_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	"github.com/devcache/devcache/internal/registrytest"
	"github.com/devcache/devcache/plugin/registry"
)

// TestChallengeGuardPlainHTTP: against a plain-HTTP registry that lets
// anyone read and asks writers for credentials, go-containerregistry
// (which sends Basic credentials to every registry whose ping does not
// challenge) reads without an Authorization header behind the guard, and
// writes with the writer's once the registry asked.
func TestChallengeGuardPlainHTTP(t *testing.T) {
	reg := resolvetest.StartRegistry(t)
	proxy := registrytest.Start(t, reg.Host, registrytest.AnonymousRead())
	writer := remote.WithAuth(&authn.Basic{Username: registrytest.Writer, Password: registrytest.WriterPassword})
	ref, err := name.ParseReference(proxy.Host + "/guard/img:1")
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}

	// Without the guard, a read carries the credentials in clear.
	remote.Head(ref, writer)
	if reqs := proxy.Requests(); !contains(reqs, "writer HEAD ") {
		t.Fatalf("without the guard go-containerregistry sent %q; the test expects Basic credentials up front", reqs)
	}

	guarded := remote.WithTransport(registry.NewChallengeGuard(http.DefaultTransport))
	if err := remote.Write(ref, img, writer, guarded); err != nil {
		t.Fatalf("write behind the guard: %v", err)
	}
	if _, err := remote.Image(ref, writer, guarded); err != nil {
		t.Fatalf("read behind the guard: %v", err)
	}
	challenged := false
	for _, q := range proxy.Requests() {
		f := strings.Fields(q) // user method path status
		read := f[1] == "GET" || f[1] == "HEAD"
		switch {
		case f[0] == "-" && f[3] == "401":
			challenged = true
		case read && f[0] != "-" && !challenged:
			t.Errorf("credentials before any challenge: %q", q)
		case !read && f[0] != registrytest.Writer:
			t.Errorf("write not sent with the writer's credentials: %q", q)
		}
	}
	if !challenged {
		t.Error("no write was challenged")
	}
}

// TestChallengeGuardTokenRealm: a Bearer challenge admits the token realm
// it names, also over plain HTTP, so token auth works behind the guard.
func TestChallengeGuardTokenRealm(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	record := func(who string, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, who+" "+r.Method+" "+r.URL.Path+" auth="+strings.Fields(r.Header.Get("Authorization") + " none")[0])
	}
	token := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record("token", r)
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "secret" {
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"token": "tok"})
	}))
	defer token.Close()
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record("registry", r)
		if r.Header.Get("Authorization") != "Bearer tok" {
			// By name: go-containerregistry refuses loopback IP realms.
			realm := strings.Replace(token.URL, "127.0.0.1", "localhost", 1) + "/token"
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`",service="test",scope="repository:x:pull"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("a", 64))
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Content-Length", "2")
	}))
	defer reg.Close()
	ref, _ := name.ParseReference(strings.TrimPrefix(reg.URL, "http://") + "/x:1")
	_, err := remote.Head(ref, remote.WithAuth(&authn.Basic{Username: "alice", Password: "secret"}),
		remote.WithTransport(registry.NewChallengeGuard(http.DefaultTransport)))
	if err != nil {
		t.Fatalf("HEAD through token auth behind the guard: %v\n%s", err, strings.Join(seen, "\n"))
	}
	if !contains(seen, "token GET /token auth=Basic") {
		t.Errorf("the token realm did not get the credentials:\n%s", strings.Join(seen, "\n"))
	}
}

// TestChallengeGuardHTTPS: over HTTPS the guard changes nothing.
func TestChallengeGuardHTTPS(t *testing.T) {
	var got string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
	}))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/", nil)
	req.SetBasicAuth("alice", "secret")
	resp, err := registry.NewChallengeGuard(srv.Client().Transport).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.HasPrefix(got, "Basic ") {
		t.Errorf("Authorization over HTTPS = %q, want it sent", got)
	}
}

func contains(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}
