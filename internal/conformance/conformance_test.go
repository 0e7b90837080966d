package conformance

import (
	"bytes"
	"context"
	"errors"
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
	"github.com/devcache/devcache/internal/frontendimage"
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
	ref, ours, bx time.Duration
	// diffs and bxDiffs count devcache's and the syntax route's
	// differences from the reference (bxDiffs -1: a declared gap, not
	// compared).
	diffs, bxDiffs int
}

// TestConformance builds every fixture with the reference CLI, with
// `docker devcache build` and with `docker buildx build` through the
// `// syntax=` line (devcache's bake-built frontend image), and compares
// devcache's two images with the reference's.
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
		refErr, plugErr            error
		bakeErr                    error
		syntaxImage                string
		reference                  *Reference
		dockerConfig, pluginOutput = t.TempDir(), ""
	)
	if out, err := exec.Command("cp", "-a", s.DockerConfig+"/.", dockerConfig).CombinedOutput(); err != nil {
		t.Fatalf("copying the stack's DOCKER_CONFIG: %v\n%s", err, out)
	}
	var (
		stepsMu sync.Mutex
		steps   []string
	)
	// step runs fn concurrently and records its duration for the log.
	step := func(name string, fn func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			fn()
			stepsMu.Lock()
			steps = append(steps, fmt.Sprintf("%s %s", name, time.Since(t0).Round(time.Second)))
			stepsMu.Unlock()
		}()
	}
	step("reference (engine, docker/dockerfile:1.4)", func() { reference, refErr = StartReference(ctx, s) })
	step("frontend image (bake)", func() {
		if src := os.Getenv("DEVCACHE_CONFORMANCE_FRONTEND_SRC"); src != "" {
			// Another source tree's frontend (e.g. an older commit's).
			syntaxImage, bakeErr = frontendimage.EnsureFrom(ctx, s, src)
			return
		}
		syntaxImage, bakeErr = frontendimage.Ensure(ctx, s)
	})
	step("plugin", func() {
		// DEVCACHE_CONFORMANCE_PLUGIN: a plugin built elsewhere (e.g. from
		// a commit while the working tree is being edited), the devcache
		// binary beside it.
		_, plugErr = stack.InstallPlugin(ctx, filepath.Join(dockerConfig, "cli-plugins"), os.Getenv("DEVCACHE_CONFORMANCE_PLUGIN"))
	})
	wg.Wait()
	if refErr != nil {
		t.Fatal(refErr)
	}
	t.Cleanup(func() {
		if err := reference.Stop(); err != nil {
			t.Errorf("stopping dockerd: %v", err)
		}
	})
	if bakeErr != nil {
		t.Fatalf("devcache's frontend image for the // syntax= route: %v", bakeErr)
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
		cli: cli, s: s, frontend: syntaxImage,
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
			// The plugin resolves a Dockerfile's # syntax= image on the
			// client (it is pinned in the Plan): reach docker.io through
			// the stack's registry, as the builder does.
			"DEVCACHE_REGISTRY_MIRROR=docker.io=" + s.Registry,
		},
		localhost: localhost,
		files:     files,
		replacer: strings.NewReplacer("@REGISTRY@", s.Registry, "@LOCALHOST@", localhost,
			"@FILES@", files.URL, "@DEBIAN@", strings.Replace(debian, s.Registry, localhost, 1)),
	}
	// The reference talks to the engine (docker pull/inspect) but builds
	// with the stack's builder, in a DOCKER_CONFIG of its own.
	h.refEnv = append(slices.Clone(h.env), reference.Env...)
	t.Logf("set-up: %s (concurrently: %s)", time.Since(start).Round(time.Second), strings.Join(steps, ", "))

	var results []result
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			r := &result{name: name, outcome: "FAIL"}
			// Deferred: a fixture that stops with t.Fatal is in the
			// summary too.
			defer func() {
				if t.Failed() {
					r.outcome = "FAIL"
				}
				results = append(results, *r)
			}()
			h.run(ctx, t, name, raws[name], r)
		})
	}
	var sum strings.Builder
	fmt.Fprintf(&sum, "conformance summary (%d fixtures, %s in all):\n", len(results), time.Since(start).Round(time.Second))
	for _, r := range results {
		bxDiffs := fmt.Sprint(r.bxDiffs)
		if r.bxDiffs < 0 {
			bxDiffs = "- (declared gap)"
		}
		fmt.Fprintf(&sum, "  %-28s %-5s reference %5.1fs  devcache %5.1fs  %s %5.1fs  differences: devcache %d, %s %s\n",
			r.name, r.outcome, r.ref.Seconds(), r.ours.Seconds(), syntaxRoute, r.bx.Seconds(), r.diffs, syntaxRoute, bxDiffs)
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
	frontend  string   // the bake-built frontend image, for `// syntax=`
	env       []string // for devcache
	refEnv    []string // for the reference CLI: also DOCKER_HOST
	localhost string
	files     *resolvetest.Files
	replacer  *strings.Replacer
}

// syntaxRoute is the summary's and the messages' name of the third build.
const syntaxRoute = "buildx"

// outcome is one build's output, error and duration.
type outcome struct {
	out  string
	err  error
	took time.Duration
}

// run builds one fixture three ways and compares the images, recording
// durations and outcome in res.
func (h *harness) run(ctx context.Context, t *testing.T, name, raw string, res *result) {
	f := parseFixture(t, raw, h.replacer)
	src := filepath.Join(fixturesDir(), name)
	tmp := t.TempDir()
	h.prepare(ctx, t, f, src, tmp)

	ws := map[string]string{}
	for _, route := range []string{"reference", "devcache", syntaxRoute} {
		ws[route] = filepath.Join(tmp, route, name)
		copyTree(t, filepath.Join(src, "workspace"), ws[route], h.replacer)
	}
	config := addSyntaxLine(t, ws[syntaxRoute], h.frontend)
	images := map[string]string{
		"reference": h.s.Ref("ref/" + name + ":1"),
		"devcache":  h.s.Ref("dc/" + name + ":1"),
		syntaxRoute: h.s.Ref("bx/" + name + ":1"),
	}

	ref, ours, bx := h.buildAll(ctx, f, ws, images, config)
	res.ref, res.ours, res.bx = ref.took, ours.took, bx.took
	if os.Getenv("DEVCACHE_CONFORMANCE_VERBOSE") != "" {
		t.Logf("reference output:\n%s\ndevcache output:\n%s\n%s output:\n%s", tail(ref.out), tail(ours.out), syntaxRoute, tail(bx.out))
	}
	compared := []string{"devcache", syntaxRoute}
	if f.BuildxGap != nil {
		checkGap(t, f, bx)
		compared = compared[:1]
	}
	if bx.err == nil && strings.Contains(bx.out, "WorkspaceFolderAssumed") {
		t.Errorf("%s: the frontend warned that it assumed the workspace folder although --build-arg DEVCACHE_WORKSPACE_FOLDER was given:\n%s", syntaxRoute, tail(bx.out))
	}

	if f.Fail != nil {
		if checkFailure(t, f, ref, ours, bx) {
			res.outcome = "pass"
			t.Logf("%s: pass (all three builds failed in feature %s)", name, f.Fail.Feature)
		}
		return
	}
	if ref.err != nil {
		t.Fatalf("the reference build failed (fixture or environment problem): %v\n%s", ref.err, tail(ref.out))
	}
	outs := map[string]outcome{"devcache": ours, syntaxRoute: bx}
	for _, route := range compared {
		if o := outs[route]; o.err != nil {
			t.Errorf("%s build failed: %v\n%s", route, o.err, tail(o.out))
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	diffs := h.compare(t, name, f, images, compared)
	res.diffs, res.bxDiffs = diffs["devcache"], diffs[syntaxRoute]
	if res.diffs+res.bxDiffs == 0 {
		res.outcome = "pass"
		if f.BuildxGap != nil {
			res.outcome, res.bxDiffs = "gap", -1
		}
		t.Logf("%s: %s (%s: Env, User, WorkingDir, Entrypoint, Cmd, Labels and %d files equal to the reference's; %d deviation(s) as documented)",
			name, res.outcome, strings.Join(compared, " and "), len(f.Files), len(f.Deviations))
	}
}

// checkGap checks a declared gap of the syntax route: its build must fail
// with the declared error, else the gap is gone and the declaration must go
// so that the image is compared.
func checkGap(t *testing.T, f *fixture, bx outcome) {
	t.Helper()
	switch {
	case bx.err == nil:
		t.Errorf("the %s build succeeded although fixture.json declares the gap %q; remove buildxGap so that its image is compared", syntaxRoute, f.BuildxGap.Error)
	case !strings.Contains(bx.out, f.BuildxGap.Error):
		t.Errorf("the %s build failed, but not with the declared gap %q:\n%s", syntaxRoute, f.BuildxGap.Error, tail(bx.out))
	default:
		t.Logf("%s: the declared gap (%s): %s", syntaxRoute, f.BuildxGap.Why, lastLines(bx.out, 1))
	}
}

// buildAll runs the three builds of a fixture. The reference (its own
// Dockerfile, a Docker engine and node) runs alongside devcache's two
// builds, which run one after the other: the second mostly finds the
// first's layers in the builder's cache.
func (h *harness) buildAll(ctx context.Context, f *fixture, ws, images map[string]string, config string) (ref, ours, bx outcome) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ref = timed(func() (string, error) {
			if f.Compose {
				return h.referenceCompose(ctx, ws["reference"], images["reference"])
			}
			return h.cmdEnv(ctx, h.refEnv, ws["reference"], "node", h.cli, "build", "--workspace-folder", ws["reference"], "--image-name", images["reference"], "--push")
		})
	}()
	ours = timed(func() (string, error) {
		return h.cmd(ctx, ws["devcache"], "docker", "devcache", "build", "--push", "-t", images["devcache"], "--progress", "plain")
	})
	bx = timed(func() (string, error) {
		return h.cmd(ctx, ws[syntaxRoute], "docker", buildxArgs(f, config, ws[syntaxRoute], images[syntaxRoute])...)
	})
	wg.Wait()
	return ref, ours, bx
}

// referenceCompose builds a Compose config with the reference CLI and
// pushes the image: the reference 0.89.0 refuses --push for Compose ("--platform
// or --push not supported"). docker-compose 1.29 builds with `docker build`,
// which must reach the engine's own builder (BUILDX_BUILDER=default: the
// stack's remote builder would leave the image in its cache, and the
// reference's feature content image must be in the engine for the service
// build's FROM).
func (h *harness) referenceCompose(ctx context.Context, ws, image string) (string, error) {
	env := append(slices.Clone(h.refEnv), "BUILDX_BUILDER=default")
	out, err := h.cmdEnv(ctx, env, ws, "node", h.cli, "build", "--workspace-folder", ws, "--image-name", image)
	if err != nil {
		return out, err
	}
	push, err := h.cmdEnv(ctx, env, ws, "docker", "push", image)
	return out + "\n$ docker push " + image + "\n" + push, err
}

// prepare pushes the fixture's base images, publishes its feature
// collections and serves its tarballs.
func (h *harness) prepare(ctx context.Context, t *testing.T, f *fixture, src, tmp string) {
	t.Helper()
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
}

// addSyntaxLine prepends `// syntax=<frontend>` to the workspace's config
// (in the buildx route's own copy: the reference and devcache build the
// config as it is in the fixture) and returns the config's path relative to
// the workspace.
func addSyntaxLine(t *testing.T, ws, frontend string) string {
	t.Helper()
	for _, rel := range []string{".devcontainer/devcontainer.json", ".devcontainer.json"} {
		p := filepath.Join(ws, rel)
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, append([]byte("// syntax="+frontend+"\n"), b...), 0o644); err != nil {
			t.Fatal(err)
		}
		return rel
	}
	t.Fatalf("%s has neither .devcontainer/devcontainer.json nor .devcontainer.json", ws)
	return ""
}

// buildxArgs is the `docker buildx build` command line of the syntax route:
// a build arg without a value for each of the fixture's buildArgs (buildx
// sends the client's variable, as a user does for ${localEnv:NAME}) and the
// workspace's path for ${localWorkspaceFolderBasename} and the default
// ${containerWorkspaceFolder}.
func buildxArgs(f *fixture, config, ws, image string) []string {
	args := []string{"buildx", "build", "-f", config}
	for _, a := range f.BuildArgs {
		args = append(args, "--build-arg", a)
	}
	return append(args, "--build-arg", "DEVCACHE_WORKSPACE_FOLDER="+ws,
		"--provenance=false", "--push", "-t", image, "--progress", "plain", ".")
}

func timed(build func() (string, error)) outcome {
	t0 := time.Now()
	out, err := build()
	return outcome{out: out, err: err, took: time.Since(t0)}
}

// checkFailure checks a fixture that must fail: every build fails with the
// install script's output, and devcache's routes name the feature in their
// final error line.
func checkFailure(t *testing.T, f *fixture, ref, ours, bx outcome) bool {
	t.Helper()
	ok := true
	if ref.err == nil {
		ok = false
		t.Errorf("the reference build succeeded; the fixture expects it to fail in feature %s", f.Fail.Feature)
	} else if !strings.Contains(ref.out, f.Fail.Marker) {
		ok = false
		t.Errorf("the reference's output lacks the failure marker %q:\n%s", f.Fail.Marker, tail(ref.out))
	}
	for _, r := range []struct {
		route string
		o     outcome
	}{{"devcache", ours}, {syntaxRoute, bx}} {
		if r.o.err == nil {
			ok = false
			t.Errorf("%s build succeeded; want a failure in feature %s", r.route, f.Fail.Feature)
			continue
		}
		if !strings.Contains(r.o.out, f.Fail.Marker) {
			ok = false
			t.Errorf("%s's output lacks the install script's output %q:\n%s", r.route, f.Fail.Marker, tail(r.o.out))
		}
		// The staging directory (<id>_<n>) in BuildKit's echo of the
		// RUN command does not count as naming the feature.
		staging := regexp.MustCompile(regexp.QuoteMeta(f.Fail.Feature) + `_[0-9]+`)
		if last := staging.ReplaceAllString(lastLines(r.o.out, 1), ""); !strings.Contains(last, f.Fail.Feature) {
			ok = false
			t.Errorf("%s's error (its last line) does not name the feature %q other than by its staging directory:\n%s", r.route, f.Fail.Feature, lastLines(r.o.out, 6))
		}
		t.Logf("%s's error:\n%s", r.route, lastLines(r.o.out, 6))
	}
	return ok
}

// compare reads the reference's image and those of routes, and compares
// each route's with the reference's; it returns the number of differences
// by route.
func (h *harness) compare(t *testing.T, name string, f *fixture, images map[string]string, routes []string) map[string]int {
	t.Helper()
	img := map[string]*built{}
	for _, route := range append([]string{"reference"}, routes...) {
		b, err := readImage(images[route], f.Files)
		if err != nil {
			t.Fatal(err)
		}
		img[route] = b
	}
	refImg := img["reference"]
	for _, p := range f.Files {
		if slices.Contains(f.Absent, p) {
			if refImg.Files[p] != absent {
				t.Errorf("%s is in the reference image, but the fixture lists it as absent", p)
			}
		} else if refImg.Files[p] == absent {
			t.Errorf("%s is not in the reference image (fixture problem: list it in absent, or fix the feature)", p)
		}
	}
	diffs := map[string]int{}
	layers := fmt.Sprintf("reference %d", refImg.Layers)
	for _, route := range routes {
		ds := diff(refImg, img[route], route, f.Deviations)
		for _, d := range ds {
			t.Errorf("%s: %s: %s", name, route, d)
		}
		diffs[route] = len(ds)
		layers += fmt.Sprintf(", %s %d", route, img[route].Layers)
	}
	t.Logf("%s: layers: %s; reference User %q, devcache.metadata label:\n%s", name, layers,
		refImg.Config.User, refImg.Config.Labels["devcontainer.metadata"])
	t.Logf("reference labels: %s", js(refImg.Config.Labels))
	for _, p := range f.Files {
		t.Logf("%s in the reference image: %q", p, refImg.Files[p])
	}
	return diffs
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
