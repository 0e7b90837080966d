package e2e

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devcache/devcache/internal/registrytest"
	"github.com/devcache/devcache/internal/stack/stacktest"
)

// TestProbeAfterPush: the plugin binary's probe misses (exit 1) before a
// push, hits (exit 0) after it with exactly the digest push printed, and
// the same hit holds with read-only credentials through an auth proxy, and
// --explain after an edit names the changed Dockerfile; all against the
// real registry and BuildKit.
func TestProbeAfterPush(t *testing.T) {
	s := stacktest.Get(t)
	nonce := time.Now().Format("150405.000000000")
	ws := pushWorkspace(t, s.Ref("busybox:latest"), nonce, "echo three > /three")
	repo := s.Ref("e2e/probe")
	probeAs := func(dockerConfig, repo, dir string, args ...string) (string, string, int) {
		env := []string{"DOCKER_CONFIG=" + dockerConfig, "XDG_CACHE_HOME=" + t.TempDir()}
		out, errOut, err := runErr(dir, env, pluginBinary(t), append([]string{"probe", "--cache-repo", repo}, args...)...)
		var ee *exec.ExitError
		switch {
		case err == nil:
			return out, errOut, 0
		case errors.As(err, &ee):
			return out, errOut, ee.ExitCode()
		}
		t.Fatalf("probe: %v", err)
		return "", "", -1
	}
	probe := func(dir string, args ...string) (string, string, int) {
		return probeAs(t.TempDir(), repo, dir, args...)
	}

	if out, errOut, code := probe(ws); code != 1 || !strings.Contains(errOut, "miss: no cache entry") {
		t.Fatalf("before push: exit %d\n%s\n%s", code, out, errOut)
	}
	out, _ := devcache(t, ws, s.BuildkitAddr, nil, "push", "--cache-repo", repo, "--progress", "quiet")
	m := refRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("push printed no digest reference:\n%s", out)
	}
	got, errOut, code := probe(ws)
	if code != 0 || got != "DEVCACHE_CACHED_IMAGE="+m[1]+"\n" {
		t.Fatalf("after push: exit %d, stdout %q (push: %s)\n%s", code, got, m[1], errOut)
	}

	// --max-age on a fresh entry (its age from push's build-info referrer,
	// found through go-containerregistry's fallback tag on distribution,
	// which has no referrers API).
	if _, errOut, code := probe(ws, "--max-age", "1h"); code != 0 {
		t.Errorf("--max-age 1h right after push: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := probe(ws, "--max-age", "1ms"); code != 1 || !strings.Contains(errOut, "older than --max-age") {
		t.Errorf("--max-age 1ms: exit %d\n%s", code, errOut)
	}

	// Read-only credentials through an auth proxy in front of the same
	// registry: the same hit, and the proxy saw only reads.
	proxy := registrytest.Start(t, s.Registry)
	proxied := strings.Replace(repo, s.Registry, proxy.Host, 1)
	got, errOut, code = probeAs(proxy.DockerConfig(t, registrytest.Reader, registrytest.ReaderPassword), proxied, ws)
	if code != 0 || got != "DEVCACHE_CACHED_IMAGE="+strings.Replace(m[1], s.Registry, proxy.Host, 1)+"\n" {
		t.Fatalf("read-only probe: exit %d, stdout %q\n%s", code, got, errOut)
	}
	for _, q := range proxy.Requests() {
		// Credentials follow a challenge: anonymous requests meet a 401.
		challenged := strings.HasPrefix(q, "- ") && strings.HasSuffix(q, " 401")
		if !strings.HasPrefix(q, "reader GET ") && !strings.HasPrefix(q, "reader HEAD ") && !challenged {
			t.Errorf("read-only probe sent %q", q)
		}
	}

	// build with the same read-only credentials, on an empty daemon: it
	// imports the pushed layer cache through the proxy (no step runs) and
	// writes nothing to the registry.
	fresh := freshDaemon(t)
	readerConfig := proxy.DockerConfig(t, registrytest.Reader, registrytest.ReaderPassword)
	_, buildErr := devcache(t, ws, fresh.BuildkitAddr, []string{"DOCKER_CONFIG=" + readerConfig},
		"build", "--cache-repo", proxied, "-o", "type=oci,dest="+filepath.Join(t.TempDir(), "image.tar"), "--progress", "rawjson")
	steps := execSteps(vertexRuns(t, buildErr))
	if len(steps) == 0 {
		t.Errorf("read-only build: no RUN step in the solve status")
	}
	for step, ran := range steps {
		if ran {
			t.Errorf("read-only build ran %q: the layer cache was not imported", step)
		}
	}
	for _, q := range proxy.Requests() {
		// "<user> <method> <path> <status>"; "-" is the anonymous first
		// request of the token handshake.
		if f := strings.Fields(q); len(f) < 2 || (f[1] != "GET" && f[1] != "HEAD") {
			t.Errorf("read-only build sent %q", q)
		}
	}

	edited := pushWorkspace(t, s.Ref("busybox:latest"), nonce, "echo three, edited > /three")
	got, errOut, code = probe(edited, "--explain")
	if code != 1 || !strings.Contains(got, "base.dockerfile.content") {
		t.Fatalf("explain after an edit: exit %d\n%s\n%s", code, got, errOut)
	}
}
