package conformance

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
	refcli "github.com/devcache/devcache/hack/conformance"
	"github.com/devcache/devcache/internal/stack"
	"github.com/devcache/devcache/internal/stack/stacktest"
)

// minFixtures is what issue 4 asks for.
const minFixtures = 12

// certDir is added to SSL_CERT_DIR before the stack starts, so that the
// stack's buildkitd and the plugin trust the tarball server's certificate
// (written there once the server runs; Go loads roots at first use).
var certDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dcconf-ca-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	certDir = dir
	dirs := certDir + ":/etc/ssl/certs"
	if old := os.Getenv("SSL_CERT_DIR"); old != "" {
		dirs = certDir + ":" + old
	}
	os.Setenv("SSL_CERT_DIR", dirs)
	stacktest.Main(m)
}

// result is one fixture's line in the summary.
type result struct {
	name, outcome string
	ref, ours     time.Duration
	diffs         int
}

// TestConformance builds every fixture with the reference CLI and with
// docker devcache, and compares the images.
func TestConformance(t *testing.T) {
	start := time.Now()
	t.Cleanup(func() { os.RemoveAll(certDir) })
	names, raws := loadFixtures(t)
	if len(names) < minFixtures {
		t.Errorf("%d fixtures in %s, want at least %d", len(names), fixturesDir(), minFixtures)
	}
	s := stacktest.Get(t)
	cli := refcli.ReferenceCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	_, port, _ := net.SplitHostPort(s.Registry)
	localhost := "localhost:" + port

	// Independent set-up steps, concurrently.
	var (
		wg                         sync.WaitGroup
		feErr, engErr, plugErr     error
		eng                        *engine
		dockerConfig, pluginOutput = t.TempDir(), ""
	)
	refDockerConfig := t.TempDir()
	for _, dc := range []string{dockerConfig, refDockerConfig} {
		if out, err := exec.Command("cp", "-a", s.DockerConfig+"/.", dc).CombinedOutput(); err != nil {
			t.Fatalf("copying the stack's DOCKER_CONFIG: %v\n%s", err, out)
		}
	}
	wg.Add(3)
	go func() { defer wg.Done(); feErr = pushDockerfileFrontend(ctx, s) }()
	go func() { defer wg.Done(); eng, engErr = startEngine(ctx, []string{s.Registry, localhost}) }()
	go func() {
		defer wg.Done()
		plugin := filepath.Join(dockerConfig, "cli-plugins", "docker-devcache")
		if prebuilt := os.Getenv("DEVCACHE_CONFORMANCE_PLUGIN"); prebuilt != "" {
			// A plugin built elsewhere (e.g. from a commit while the
			// working tree is being edited).
			out, err := exec.Command("cp", prebuilt, plugin).CombinedOutput()
			plugErr, pluginOutput = err, string(out)
			return
		}
		root, err := stack.ModuleRoot()
		if err != nil {
			plugErr = err
			return
		}
		cmd := exec.CommandContext(ctx, "go", "build", "-o", plugin, "./cmd/docker-devcache")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		plugErr, pluginOutput = err, string(out)
	}()
	wg.Wait()
	if eng != nil {
		t.Cleanup(func() {
			if err := eng.stop(); err != nil {
				t.Errorf("stopping dockerd: %v", err)
			}
		})
	}
	if engErr != nil {
		t.Fatalf("the reference CLI needs a Docker engine: %v", engErr)
	}
	if feErr != nil {
		t.Fatalf("docker/dockerfile:1.4 for the reference CLI: %v", feErr)
	}
	if plugErr != nil {
		t.Fatalf("building the plugin: %v\n%s", plugErr, pluginOutput)
	}
	debian := ""
	for _, name := range names {
		if usesPlaceholder(filepath.Join(fixturesDir(), name), "@DEBIAN@") {
			debian = stacktest.Debian(t)
			break
		}
	}
	files := resolvetest.StartFiles(t)
	if cert, err := os.ReadFile(files.CertFile); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(filepath.Join(certDir, "tarballs.pem"), cert, 0o644); err != nil {
		t.Fatal(err)
	}
	h := &harness{
		cli: cli, s: s,
		// devcache runs as users run it: the current buildx builder, no
		// Docker engine.
		env: []string{
			"DOCKER_CONFIG=" + dockerConfig,
			"BUILDX_NO_DEFAULT_ATTESTATIONS=1",
			"NODE_EXTRA_CA_CERTS=" + files.CertFile,
			"PATH=" + s.BinDir + ":" + os.Getenv("PATH"),
			// For ${localEnv:...} in fixtures.
			"DEVCACHE_CONFORMANCE_LOCAL=local \"value\" $x",
			"DEVCACHE_CONFORMANCE_EMPTY=",
		},
		localhost: localhost,
		files:     files,
		replacer: strings.NewReplacer("@REGISTRY@", s.Registry, "@LOCALHOST@", localhost,
			"@FILES@", files.URL, "@DEBIAN@", strings.Replace(debian, s.Registry, localhost, 1)),
	}
	// The reference talks to the engine (docker pull/inspect) but must
	// build with the stack's builder: buildx keeps the current builder per
	// engine endpoint, so select it for DOCKER_HOST too, in a DOCKER_CONFIG
	// of the reference's own.
	h.refEnv = append(slices.Clone(h.env), "DOCKER_CONFIG="+refDockerConfig, "DOCKER_HOST="+eng.host, "BUILDX_BUILDER="+s.Builder)
	if out, err := h.cmdEnv(ctx, h.refEnv, "", "docker", "buildx", "use", s.Builder); err != nil {
		t.Fatalf("docker buildx use %s (for the engine's endpoint): %v\n%s", s.Builder, err, out)
	}
	t.Logf("set-up: %s", time.Since(start).Round(time.Second))

	var results []result
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			r := h.run(ctx, t, name, raws[name])
			if t.Failed() && r.outcome == "pass" {
				r.outcome = "FAIL"
			}
			results = append(results, r)
		})
	}
	var sum strings.Builder
	fmt.Fprintf(&sum, "conformance summary (%d fixtures, %s in all):\n", len(results), time.Since(start).Round(time.Second))
	for _, r := range results {
		fmt.Fprintf(&sum, "  %-28s %-5s reference %5.1fs  devcache %5.1fs  differences %d\n", r.name, r.outcome, r.ref.Seconds(), r.ours.Seconds(), r.diffs)
	}
	t.Log(sum.String())
	fmt.Fprint(os.Stderr, sum.String())
	// go test shows a passing package's output only with -v; CI can ask
	// for the summary in a file as well.
	if p := os.Getenv("DEVCACHE_CONFORMANCE_SUMMARY"); p != "" {
		if err := os.WriteFile(p, []byte(sum.String()), 0o644); err != nil {
			t.Errorf("writing the summary: %v", err)
		}
	}
}

type harness struct {
	cli       string
	s         *stack.Stack
	env       []string // for devcache
	refEnv    []string // for the reference CLI: also DOCKER_HOST
	localhost string
	files     *resolvetest.Files
	replacer  *strings.Replacer
}

func (h *harness) run(ctx context.Context, t *testing.T, name, raw string) (res result) {
	res = result{name: name, outcome: "FAIL"}
	f := parseFixture(t, raw, h.replacer)
	src := filepath.Join(fixturesDir(), name)
	tmp := t.TempDir()

	for _, b := range f.BaseImages {
		pushBase(t, h.s.Registry, b)
	}
	for i, p := range f.Publish {
		dir := filepath.Join(tmp, fmt.Sprintf("publish%d", i), "src")
		copyTree(t, filepath.Join(src, p.Src), dir, h.replacer)
		out, err := h.cmdEnv(ctx, h.refEnv, dir, "node", h.cli, "features", "publish", "--registry", h.localhost, "--namespace", p.Namespace, "--log-level", "info", dir)
		if err != nil {
			t.Fatalf("devcontainer features publish %s: %v\n%s", p.Src, err, out)
		}
	}
	for i, tb := range f.Tarballs {
		dir := filepath.Join(tmp, fmt.Sprintf("tarball%d", i))
		copyTree(t, filepath.Join(src, tb.Src), dir, h.replacer)
		h.files.Put(tb.Path, targz(t, dir))
	}

	refWS := filepath.Join(tmp, "reference", name)
	ourWS := filepath.Join(tmp, "devcache", name)
	copyTree(t, filepath.Join(src, "workspace"), refWS, h.replacer)
	copyTree(t, filepath.Join(src, "workspace"), ourWS, h.replacer)
	refImage := h.s.Ref("ref/" + name + ":1")
	ourImage := h.s.Ref("dc/" + name + ":1")

	t0 := time.Now()
	refOut, refErr := h.cmdEnv(ctx, h.refEnv, refWS, "node", h.cli, "build", "--workspace-folder", refWS, "--image-name", refImage, "--push")
	res.ref = time.Since(t0)
	t0 = time.Now()
	ourOut, ourErr := h.cmd(ctx, ourWS, "docker", "devcache", "build", "--push", "-t", ourImage, "--progress", "plain")
	res.ours = time.Since(t0)
	if os.Getenv("DEVCACHE_CONFORMANCE_VERBOSE") != "" {
		t.Logf("reference output:\n%s\ndevcache output:\n%s", tail(refOut), tail(ourOut))
	}

	if f.Fail != nil {
		ok := true
		if refErr == nil {
			ok = false
			t.Errorf("the reference build succeeded; the fixture expects it to fail in feature %s", f.Fail.Feature)
		} else if !strings.Contains(refOut, f.Fail.Marker) {
			ok = false
			t.Errorf("the reference's output lacks the failure marker %q:\n%s", f.Fail.Marker, tail(refOut))
		}
		if ourErr == nil {
			ok = false
			t.Errorf("devcache build succeeded; want a failure in feature %s", f.Fail.Feature)
		} else {
			if !strings.Contains(ourOut, f.Fail.Marker) {
				ok = false
				t.Errorf("devcache's output lacks the install script's output %q:\n%s", f.Fail.Marker, tail(ourOut))
			}
			// The staging directory (<id>_<n>) in BuildKit's echo of the
			// RUN command does not count as naming the feature.
			staging := regexp.MustCompile(regexp.QuoteMeta(f.Fail.Feature) + `_[0-9]+`)
			if last := staging.ReplaceAllString(lastLines(ourOut, 1), ""); !strings.Contains(last, f.Fail.Feature) {
				ok = false
				t.Errorf("devcache's error (its last line) does not name the feature %q other than by its staging directory:\n%s", f.Fail.Feature, lastLines(ourOut, 6))
			}
		}
		t.Logf("devcache's error:\n%s", lastLines(ourOut, 6))
		if ok {
			res.outcome = "pass"
			t.Logf("%s: pass (both builds failed in feature %s)", name, f.Fail.Feature)
		}
		return res
	}
	if refErr != nil {
		t.Fatalf("the reference build failed (fixture or environment problem): %v\n%s", refErr, tail(refOut))
	}
	if ourErr != nil {
		t.Fatalf("devcache build failed: %v\n%s", ourErr, tail(ourOut))
	}
	refImg, err := readImage(refImage, f.Files)
	if err != nil {
		t.Fatal(err)
	}
	ourImg, err := readImage(ourImage, f.Files)
	if err != nil {
		t.Fatal(err)
	}
	diffs := diff(refImg, ourImg, f.Deviations)
	for _, p := range f.Files {
		if slices.Contains(f.Absent, p) {
			if refImg.Files[p] != absent {
				t.Errorf("%s is in the reference image, but the fixture lists it as absent", p)
			}
		} else if refImg.Files[p] == absent {
			t.Errorf("%s is not in the reference image (fixture problem: list it in absent, or fix the feature)", p)
		}
	}
	res.diffs = len(diffs)
	for _, d := range diffs {
		t.Errorf("%s: %s", name, d)
	}
	t.Logf("%s: layers: reference %d, devcache %d; reference User %q, devcache.metadata label:\n%s", name, refImg.Layers, ourImg.Layers,
		refImg.Config.User, refImg.Config.Labels["devcontainer.metadata"])
	t.Logf("reference labels: %s", js(refImg.Config.Labels))
	for _, p := range f.Files {
		t.Logf("%s in the reference image: %q", p, refImg.Files[p])
	}
	if len(diffs) == 0 {
		res.outcome = "pass"
		t.Logf("%s: pass (Env, User, WorkingDir, Entrypoint, Cmd, Labels and %d files equal; %d deviation(s) as documented)", name, len(f.Files), len(f.Deviations))
	}
	return res
}

// cmd runs a command in dir with the harness's environment and returns its
// combined output.
func (h *harness) cmd(ctx context.Context, dir string, name string, args ...string) (string, error) {
	return h.cmdEnv(ctx, h.env, dir, name, args...)
}

func (h *harness) cmdEnv(ctx context.Context, env []string, dir string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, name, args...)
	c.Dir = dir
	c.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	return out.String(), err
}

func tail(s string) string {
	if len(s) > 6000 {
		return "…" + s[len(s)-6000:]
	}
	return s
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
