package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/internal/stack"
	"github.com/devcache/devcache/internal/stack/stacktest"
)

// pushWorkspace is a Dockerfile config with three RUN steps; nonce makes
// its steps unique to the test on the shared daemon, third is the last
// step's text (the one tests edit).
func pushWorkspace(t *testing.T, base, nonce, third string) string {
	return writeWorkspace(t, map[string]string{
		".devcontainer/devcontainer.json": `{
  // A Dockerfile config: several RUN steps, one of which a test edits.
  "build": {"dockerfile": "Dockerfile"},
  "remoteUser": "root"
}
`,
		".devcontainer/Dockerfile": fmt.Sprintf(`FROM %s
RUN echo one %s > /one
RUN sleep 2 && echo two %s > /two
RUN %s
`, base, nonce, nonce, third),
	})
}

// devcache runs the plugin binary directly against a BuildKit daemon, with
// an empty DOCKER_CONFIG; it returns stdout and stderr and fails the test
// on a non-zero exit.
func devcache(t *testing.T, ws, buildkitAddr string, env []string, args ...string) (string, string) {
	t.Helper()
	env = append([]string{"DOCKER_CONFIG=" + t.TempDir(), "BUILDKIT_HOST=" + buildkitAddr}, env...)
	out, errOut, err := runErr(ws, env, pluginBinary(t), args...)
	if err != nil {
		t.Fatalf("docker-devcache %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, lastLines(errOut, 60))
	}
	return out, errOut
}

func lastLines(s string, n int) string {
	l := strings.Split(s, "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

var (
	refRE       = regexp.MustCompile(`(?m)^(\S+@sha256:[0-9a-f]{64})$`)
	lightningRE = regexp.MustCompile(`(?m)^⚡ Using pre-built dev container (\S+@sha256:[0-9a-f]{64}) \(saved ~(\d+)m (\d+)s build time\)$`)
)

// TestPushTwice: the first push builds and pushes the keyed image; the
// second builds nothing and prints the ⚡ line with the recorded build time.
func TestPushTwice(t *testing.T) {
	s := stacktest.Get(t)
	nonce := fmt.Sprint(time.Now().UnixNano())
	ws := pushWorkspace(t, s.Ref("busybox:latest"), nonce, "echo three > /three")
	repo := s.Ref("e2e/push-twice")

	start := time.Now()
	meta := filepath.Join(t.TempDir(), "meta.json")
	out, _ := devcache(t, ws, s.BuildkitAddr, nil, "push", "--cache-repo", repo, "--progress", "plain",
		"--metadata-file", meta, "-t", s.Ref("e2e/push-twice-human:latest"))
	first := time.Since(start)
	m := refRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("first push printed %q, want <repo>@sha256:…", out)
	}
	var md struct {
		Digest, Key, KeyTag string
		Cached, Stored      bool
	}
	b, _ := os.ReadFile(meta)
	if err := json.Unmarshal(b, &md); err != nil || md.Cached || !md.Stored || !strings.HasPrefix(md.Key, "sha256:") || !strings.HasSuffix(m[1], md.Digest) {
		t.Errorf("metadata file = %s (%v)", b, err)
	}
	// The key tag and the --tag hold the image.
	for _, ref := range []string{md.KeyTag, s.Ref("e2e/push-twice-human:latest")} {
		if _, d := imageConfig(t, ref); d.String() != md.Digest {
			t.Errorf("%s = %s, want %s", ref, d, md.Digest)
		}
	}

	// Again, with the cache repository from the environment.
	start = time.Now()
	out, errOut := devcache(t, ws, s.BuildkitAddr, []string{"DEVCACHE_CACHE_REPO=" + repo}, "push", "--progress", "rawjson")
	second := time.Since(start)
	l := lightningRE.FindStringSubmatch(out)
	if l == nil {
		t.Fatalf("second push printed %q, want the ⚡ line", out)
	}
	if l[1] != m[1] {
		t.Errorf("second push uses %s, want the first's %s", l[1], m[1])
	}
	if secs := atoi(l[2])*60 + atoi(l[3]); secs < 2 {
		t.Errorf("recorded build time %ss, want at least the 2 s of the sleep step", l[3])
	}
	if runs := vertexRuns(t, errOut); len(runs) > 0 {
		t.Errorf("second push solved %v, want no build at all", runs)
	}
	t.Logf("first push %v, second push %v", first.Round(time.Millisecond), second.Round(time.Millisecond))

	// --format json on a hit.
	out, _ = devcache(t, ws, s.BuildkitAddr, nil, "push", "--cache-repo", repo, "--format", "json", "--progress", "quiet")
	var res struct {
		Ref          string
		Cached       bool
		BuildSeconds float64
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || !res.Cached || res.Ref != m[1] || res.BuildSeconds < 2 {
		t.Errorf("--format json = %s (%v)", out, err)
	}
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

// TestPushFreshDaemonReusesLayers: a second, empty buildkitd (a fresh CI
// runner) pushing an edited config builds only the edited step; every
// unchanged layer comes from the registry cache of the config's scope.
func TestPushFreshDaemonReusesLayers(t *testing.T) {
	s := stacktest.Get(t)
	nonce := fmt.Sprint(time.Now().UnixNano())
	repo := s.Ref("e2e/push-layers")
	ws := pushWorkspace(t, s.Ref("busybox:latest"), nonce, "echo three > /three")
	devcache(t, ws, s.BuildkitAddr, nil, "push", "--cache-repo", repo, "--progress", "quiet")

	fresh := freshDaemon(t)
	edited := pushWorkspace(t, s.Ref("busybox:latest"), nonce, "echo three, edited > /three")
	start := time.Now()
	out, errOut := devcache(t, edited, fresh.BuildkitAddr, nil, "push", "--cache-repo", repo, "--progress", "rawjson")
	t.Logf("edited push on a fresh daemon: %v", time.Since(start).Round(time.Millisecond))
	if refRE.FindString(out) == "" {
		t.Fatalf("push printed %q", out)
	}
	steps := execSteps(vertexRuns(t, errOut))
	want := map[string]bool{
		"echo one " + nonce + " > /one":            false,
		"sleep 2 && echo two " + nonce + " > /two": false,
		"echo three, edited > /three":              true,
	}
	for step, ran := range want {
		got, ok := steps[step]
		if !ok {
			t.Errorf("no RUN %q in the solve status; steps: %v", step, steps)
			continue
		}
		if got != ran {
			t.Errorf("RUN %q ran=%v, want %v (steps: %v)", step, got, ran, steps)
		}
	}
}

// TestPushReproducible: two empty daemons pushing the same config to two
// repositories push the same manifest.
func TestPushReproducible(t *testing.T) {
	s := stacktest.Get(t)
	nonce := fmt.Sprint(time.Now().UnixNano())
	ws := pushWorkspace(t, s.Ref("busybox:latest"), nonce, "echo three > /three && mkdir -p /data && date > /data/when")
	daemons := []*stack.Stack{freshDaemon(t), freshDaemon(t)}
	var digests []string
	for i, d := range daemons {
		out, _ := devcache(t, ws, d.BuildkitAddr, nil, "push", "--cache-repo", s.Ref(fmt.Sprintf("e2e/repro-%d", i)), "--progress", "quiet")
		m := refRE.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("push %d printed %q", i, out)
		}
		digests = append(digests, m[1][strings.Index(m[1], "@")+1:])
	}
	if digests[0] != digests[1] {
		t.Errorf("two clean daemons pushed different manifests: %v", digests)
	}
}

// TestPushConcurrent: two pushes of one key at once end with one tag, and
// both report what it holds.
func TestPushConcurrent(t *testing.T) {
	s := stacktest.Get(t)
	nonce := fmt.Sprint(time.Now().UnixNano())
	ws := pushWorkspace(t, s.Ref("busybox:latest"), nonce, "echo three > /three")
	repo := s.Ref("e2e/push-concurrent")
	var wg sync.WaitGroup
	outs := make([]string, 2)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, e, err := runErr(ws, []string{"DOCKER_CONFIG=" + t.TempDir(), "BUILDKIT_HOST=" + s.BuildkitAddr},
				pluginBinary(t), "push", "--cache-repo", repo, "--progress", "quiet", "--format", "json")
			if err != nil {
				t.Errorf("push %d: %v\n%s", i, err, lastLines(e, 30))
			}
			outs[i] = o
		}()
	}
	wg.Wait()
	var refs []string
	var keyTag string
	for _, o := range outs {
		var r struct{ Ref, KeyTag string }
		if err := json.Unmarshal([]byte(o), &r); err != nil {
			t.Fatalf("output %q: %v", o, err)
		}
		refs, keyTag = append(refs, r.Ref), r.KeyTag
	}
	if refs[0] != refs[1] {
		t.Errorf("concurrent pushes report different images: %v", refs)
	}
	if _, d := imageConfig(t, keyTag); !strings.HasSuffix(refs[0], d.String()) {
		t.Errorf("%s holds %s, pushes reported %v", keyTag, d, refs)
	}
}

// TestPushDockerCLIAuthenticated: `docker devcache push` through the real
// docker CLI, the plugin in a temporary DOCKER_CONFIG, against the buildx
// remote builder, to a registry that requires the credentials of that
// config (both for the client's registry calls and for BuildKit's push).
func TestPushDockerCLIAuthenticated(t *testing.T) {
	s := stacktest.Get(t)
	const user, password = "devcache", "s3cret-pass"
	reg := authRegistry(t, user, password)
	env, dockerConfig := dockerEnv(t, s)
	pluginPath := filepath.Join(dockerConfig, "cli-plugins", "docker-devcache")
	if err := os.Symlink(pluginBinary(t), pluginPath); err != nil {
		t.Fatal(err)
	}
	writeAuth(t, dockerConfig, reg, user, password)

	repo := reg + "/team/devcache"
	// Without credentials the registry refuses.
	if _, err := remote.Head(mustTag(t, repo+":probe")); err == nil || !strings.Contains(err.Error(), "UNAUTHORIZED") {
		t.Fatalf("anonymous HEAD on %s: %v, want UNAUTHORIZED", repo, err)
	}

	nonce := fmt.Sprint(time.Now().UnixNano())
	ws := pushWorkspace(t, s.Ref("busybox:latest"), nonce, "echo three > /three")
	out := run(t, ws, env, "docker", "devcache", "push", "--cache-repo", repo, "-t", reg+"/team/dev:main", "--progress", "plain")
	m := refRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("docker devcache push printed %q", out)
	}
	out = run(t, ws, env, "docker", "devcache", "push", "--cache-repo", repo, "--progress", "plain")
	if l := lightningRE.FindStringSubmatch(out); l == nil || l[1] != m[1] {
		t.Errorf("second docker devcache push printed %q, want the ⚡ line for %s", out, m[1])
	}
	// build imports the pushed layer cache with the same (read) access.
	out = run(t, ws, env, "docker", "devcache", "build", "--cache-repo", repo, "--progress", "rawjson", "-o", "type=oci,dest="+filepath.Join(t.TempDir(), "out.tar"))
	_ = out
}

func writeAuth(t *testing.T, dockerConfig, host, user, password string) {
	t.Helper()
	p := filepath.Join(dockerConfig, "config.json")
	cfg := map[string]any{}
	if b, err := os.ReadFile(p); err == nil {
		_ = json.Unmarshal(b, &cfg)
	}
	cfg["auths"] = map[string]any{host: map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustTag(t *testing.T, s string) name.Tag {
	t.Helper()
	n, err := name.NewTag(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
