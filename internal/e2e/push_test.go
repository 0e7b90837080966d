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
	lightningRE = regexp.MustCompile(`(?m)^⚡ Using pre-built dev container (\S+@sha256:[0-9a-f]{64}) \(saved (?:~(\d+)m (\d+)s|<1s) build time\)$`)
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
	ghOut := filepath.Join(t.TempDir(), "github_output")
	start = time.Now()
	out, errOut := devcache(t, ws, s.BuildkitAddr, []string{"DEVCACHE_CACHE_REPO=" + repo, "GITHUB_OUTPUT=" + ghOut}, "push", "--progress", "rawjson")
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
	keyTag := md.KeyTag[strings.LastIndex(md.KeyTag, ":")+1:]
	if b, _ := os.ReadFile(ghOut); string(b) != "hit=true\ncached-image="+m[1]+"\nkey-tag="+keyTag+"\n" {
		t.Errorf("$GITHUB_OUTPUT = %q", b)
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
// repositories push the same manifest (a Dockerfile config, and an image
// config with features).
func TestPushReproducible(t *testing.T) {
	s := stacktest.Get(t)
	nonce := fmt.Sprint(time.Now().UnixNano())
	workspaces := map[string]string{
		"dockerfile": pushWorkspace(t, s.Ref("busybox:latest"), nonce, "echo three > /three && mkdir -p /data && touch /data/when"),
		"features":   featureWorkspace(t, s.Ref("busybox:latest"), nonce, "#!/bin/sh\nmkdir -p /opt/c && touch /opt/c/when\n"),
	}
	daemons := []*stack.Stack{freshDaemon(t), freshDaemon(t)}
	for kind, ws := range workspaces {
		var digests []string
		for i, d := range daemons {
			out, _ := devcache(t, ws, d.BuildkitAddr, nil, "push", "--cache-repo", s.Ref(fmt.Sprintf("e2e/repro-%s-%d", kind, i)), "--progress", "quiet")
			m := refRE.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("%s: push %d printed %q", kind, i, out)
			}
			digests = append(digests, m[1][strings.Index(m[1], "@")+1:])
		}
		if digests[0] != digests[1] {
			t.Errorf("%s: two clean daemons pushed different manifests: %v", kind, digests)
		}
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
	if _, err := remote.Head(mustTag(t, repo+":probe")); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("anonymous HEAD on %s: %v, want 401 Unauthorized", repo, err)
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
	// build on a fresh daemon imports the pushed layer cache with the
	// config's credentials: no RUN step runs.
	fresh := freshDaemon(t)
	_, errOut, err := runErr(ws, env, "docker", "devcache", "build", "--buildkit-host", fresh.BuildkitAddr, "--cache-repo", repo,
		"--progress", "rawjson", "-o", "type=oci,dest="+filepath.Join(t.TempDir(), "out.tar"))
	if err != nil {
		t.Fatalf("docker devcache build --cache-repo: %v\n%s", err, lastLines(errOut, 40))
	}
	steps := execSteps(vertexRuns(t, errOut))
	if len(steps) != 3 {
		t.Errorf("RUN steps in the solve status: %v, want 3", steps)
	}
	for step, ran := range steps {
		if ran {
			t.Errorf("RUN %q ran; want it from the registry layer cache", step)
		}
	}
}

// TestBuildCacheDir: --cache-dir carries every layer to a fresh daemon
// without a registry; --metadata-file has the digest and the key.
func TestBuildCacheDir(t *testing.T) {
	s := stacktest.Get(t)
	nonce := fmt.Sprint(time.Now().UnixNano())
	ws := pushWorkspace(t, s.Ref("busybox:latest"), nonce, "echo three > /three")
	cacheDir := filepath.Join(t.TempDir(), "layers")
	meta := filepath.Join(t.TempDir(), "meta.json")
	devcache(t, ws, s.BuildkitAddr, nil, "build", "--cache-dir", cacheDir, "--progress", "quiet",
		"--metadata-file", meta, "-o", "type=oci,dest="+filepath.Join(t.TempDir(), "a.tar"))
	var md map[string]string
	b, _ := os.ReadFile(meta)
	if err := json.Unmarshal(b, &md); err != nil || !strings.HasPrefix(md["devcache.key"], "sha256:") || !strings.HasPrefix(md["containerimage.digest"], "sha256:") {
		t.Errorf("metadata file = %s (%v)", b, err)
	}
	fresh := freshDaemon(t)
	out, errOut := devcache(t, ws, fresh.BuildkitAddr, []string{"DEVCACHE_CACHE_DIR=" + cacheDir}, "build", "--progress", "rawjson", "--format", "json",
		"-o", "type=oci,dest="+filepath.Join(t.TempDir(), "b.tar"))
	var res struct{ Digest, Key string }
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Key != md["devcache.key"] || res.Digest != md["containerimage.digest"] {
		t.Errorf("--format json = %s (%v), want key %s digest %s", out, err, md["devcache.key"], md["containerimage.digest"])
	}
	steps := execSteps(vertexRuns(t, errOut))
	if len(steps) != 3 {
		t.Errorf("RUN steps in the solve status: %v, want 3", steps)
	}
	for step, ran := range steps {
		if ran {
			t.Errorf("RUN %q ran; want it from --cache-dir", step)
		}
	}
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

// featureWorkspace is an image config with three local features installed
// in a fixed order (a, b, c); c's install script is cInstall.
func featureWorkspace(t *testing.T, base, nonce, cInstall string) string {
	files := map[string]string{
		".devcontainer/devcontainer.json": `{
  "image": "` + base + `",
  "features": {"./a": {}, "./b": {}, "./c": {}},
  "overrideFeatureInstallOrder": ["./a", "./b", "./c"],
  "remoteUser": "root"
}
`,
	}
	for _, id := range []string{"a", "b", "c"} {
		files[".devcontainer/"+id+"/devcontainer-feature.json"] = `{"id": "` + id + `", "version": "1.0.0"}`
		script := "#!/bin/sh\nset -e\necho " + id + " " + nonce + " > /feature-" + id + "\n"
		if id == "b" {
			script += "sleep 2\n"
		}
		if id == "c" {
			script = cInstall
		}
		files[".devcontainer/"+id+"/install.sh"] = script
	}
	return writeWorkspace(t, files)
}

// TestPushFreshDaemonFeatureEdit: a fresh daemon pushing a config whose
// last feature was edited runs only that feature's install step; the
// others come from the registry layer cache.
func TestPushFreshDaemonFeatureEdit(t *testing.T) {
	s := stacktest.Get(t)
	nonce := fmt.Sprint(time.Now().UnixNano())
	repo := s.Ref("e2e/push-features")
	ws := featureWorkspace(t, s.Ref("busybox:latest"), nonce, "#!/bin/sh\necho c > /feature-c\n")
	devcache(t, ws, s.BuildkitAddr, nil, "push", "--cache-repo", repo, "--progress", "quiet")

	fresh := freshDaemon(t)
	edited := featureWorkspace(t, s.Ref("busybox:latest"), nonce, "#!/bin/sh\necho c edited > /feature-c\n")
	_, errOut := devcache(t, edited, fresh.BuildkitAddr, nil, "push", "--cache-repo", repo, "--progress", "rawjson")
	runs := vertexRuns(t, errOut)
	want := map[string]bool{
		"[devcontainer] install feature ./a": false,
		"[devcontainer] install feature ./b": false,
		"[devcontainer] install feature ./c": true,
	}
	for step, ran := range want {
		got, ok := runs[step]
		if !ok {
			t.Errorf("no %q in the solve status: %v", step, runs)
		} else if got != ran {
			t.Errorf("%q ran=%v, want %v (all: %v)", step, got, ran, runs)
		}
	}
	var execs []string
	for n, ran := range runs {
		if ran && strings.Contains(n, "install feature") {
			execs = append(execs, n)
		}
	}
	if len(execs) != 1 {
		t.Errorf("install steps that ran: %v, want only ./c's", execs)
	}
}

// TestDockerEngine: with a Docker engine, build --load puts the image into
// it, and push refuses the engine's classic docker-driver builder (it
// cannot export cache) with what to do instead.
func TestDockerEngine(t *testing.T) {
	s := stacktest.Get(t)
	host := dockerEngine(t, s)
	env, dockerConfig := dockerEnv(t, s)
	env = append(env, "DOCKER_HOST="+host)
	if err := os.Symlink(pluginBinary(t), filepath.Join(dockerConfig, "cli-plugins", "docker-devcache")); err != nil {
		t.Fatal(err)
	}
	nonce := fmt.Sprint(time.Now().UnixNano())
	ws := pushWorkspace(t, s.Ref("busybox:latest"), nonce, "echo three > /three")

	// The engine here has no bridge network, so its own BuildKit cannot
	// run RUN steps: an image config (no step to run) for the docker driver.
	imageWS := writeWorkspace(t, map[string]string{
		".devcontainer/devcontainer.json": `{"image": "` + s.Ref("busybox:latest") + `", "remoteUser": "root"}`,
	})
	for _, c := range []struct{ name, ws, builder, load, tag string }{
		{"build --load on a remote builder", ws, "--buildkit-host=" + s.BuildkitAddr, "--load", "devcache-e2e/load:remote"},
		{"build --load on the docker driver", imageWS, "--builder=default", "--load", "devcache-e2e/load:docker"},
		{"build -t on the docker driver", imageWS, "--builder=default", "", "devcache-e2e/load:tagged"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"devcache", "build", c.builder, "-t", c.tag, "--progress", "plain"}
			if c.load != "" {
				args = append(args, c.load)
			}
			run(t, c.ws, env, "docker", args...)
			out := run(t, ws, env, "docker", "image", "inspect", "--format", "{{json .Config.Labels}}", c.tag)
			if !strings.Contains(out, "devcontainer.metadata") {
				t.Errorf("loaded image labels = %s", out)
			}
		})
	}
	t.Run("push refuses the docker driver", func(t *testing.T) {
		_, errOut, err := runErr(ws, env, "docker", "devcache", "push", "--builder", "default", "--cache-repo", s.Ref("e2e/docker-driver"))
		if err == nil || !strings.Contains(errOut, "cannot export the layer cache") || !strings.Contains(errOut, "docker buildx create") {
			t.Errorf("push on the docker driver: err=%v\n%s", err, errOut)
		}
	})
}
