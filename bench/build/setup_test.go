package build

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/buildkit/client"

	refcli "github.com/devcache/devcache/hack/conformance"
	"github.com/devcache/devcache/internal/conformance"
	"github.com/devcache/devcache/internal/stack"
	"github.com/devcache/devcache/internal/stack/stacktest"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

// bench is the set-up shared by every benchmark of the binary: the stack,
// the reference's engine and builder selection, the plugin in a
// DOCKER_CONFIG of devcache's own, and the published features.
type bench struct {
	s         *stack.Stack
	ref       *conformance.Reference
	cli       string   // the reference's devcontainer.js
	env       []string // devcache's environment (docker devcache …)
	refEnv    []string // the reference's
	base      string   // localhost:PORT/debian:bookworm
	features  string   // localhost:PORT/bench/features
	localhost string
}

var (
	setupOnce sync.Once
	shared    *bench
	setupErr  error
)

// get sets up once per test binary; the engine stops when the binary ends
// (its process is tied to this one's).
func get(b *testing.B) *bench {
	b.Helper()
	s := stacktest.Get(b)
	debian := stacktest.Debian(b)
	cli := refcli.ReferenceCLI(b)
	setupOnce.Do(func() { shared, setupErr = setup(b, s, debian, cli) })
	if setupErr != nil {
		b.Fatal(setupErr)
	}
	return shared
}

func setup(b *testing.B, s *stack.Stack, debian, cli string) (*bench, error) {
	ctx := context.Background()
	ref, err := conformance.StartReference(ctx, s)
	if err != nil {
		return nil, err
	}
	dc, err := os.MkdirTemp("", "devcache-bench-docker-")
	if err != nil {
		return nil, err
	}
	if out, err := exec.Command("cp", "-a", s.DockerConfig+"/.", dc).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("copying the stack's DOCKER_CONFIG: %v\n%s", err, out)
	}
	// $DEVCACHE_BENCH_PLUGIN: a prebuilt plugin, the devcache binary beside it.
	if _, err := stack.InstallPlugin(ctx, filepath.Join(dc, "cli-plugins"), os.Getenv("DEVCACHE_BENCH_PLUGIN")); err != nil {
		return nil, err
	}
	bn := &bench{
		s: s, ref: ref, cli: cli, localhost: ref.Localhost,
		base:     strings.Replace(debian, s.Registry, ref.Localhost, 1),
		features: ref.Localhost + "/bench/features",
		env: []string{
			"DOCKER_CONFIG=" + dc,
			"BUILDX_NO_DEFAULT_ATTESTATIONS=1",
			"PATH=" + s.BinDir + ":" + os.Getenv("PATH"),
		},
	}
	bn.refEnv = append(append([]string(nil), bn.env...), ref.Env...)
	src, err := filepath.Abs(filepath.Join("testdata", "features"))
	if err != nil {
		return nil, err
	}
	refcli.Publish(b, cli, ref.Localhost, "bench/features", src)
	return bn, nil
}

// workspace writes a workspace (its folder named "ws", so that both
// tools see the same ${localWorkspaceFolderBasename}) whose git feature's
// editor option is editor.
func (bn *bench) workspace(b *testing.B, editor string) string {
	ws := filepath.Join(b.TempDir(), "ws")
	bn.setEditor(b, ws, editor)
	return ws
}

func (bn *bench) setEditor(b *testing.B, ws, editor string) {
	utils, git := bn.features+"/utils:1", bn.features+"/git:1"
	packages, version := "", "os-provided"
	if os.Getenv("DEVCACHE_BENCH_QUICK") != "" {
		// A check that the benchmark runs, on a busy machine or a slow
		// Debian mirror: the features copy files of the base instead of
		// installing packages.
		packages, version = `, "packages": "offline"`, "offline"
	}
	cfg := fmt.Sprintf(`{
  "image": %q,
  "features": {
    %q: {"installZsh": true, "username": "vscode"%s},
    %q: {"version": %q, "editor": %q}
  },
  "overrideFeatureInstallOrder": [%q, %q]
}
`, bn.base, utils, packages, git, version, editor, utils, git)
	p := filepath.Join(ws, ".devcontainer", "devcontainer.json")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		b.Fatal(err)
	}
}

// prune empties the builder's cache (an empty builder, as on a fresh CI
// runner).
func (bn *bench) prune(b *testing.B) {
	ctx := context.Background()
	c, err := bn.s.Client(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Prune(ctx, nil, client.PruneAll); err != nil {
		b.Fatalf("pruning the builder: %v", err)
	}
}

// run runs a command in dir with env added and returns its stdout and
// stderr and its wall time; it fails the benchmark on an error.
func run(b *testing.B, env []string, dir, cmd string, args ...string) (string, string, time.Duration) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, cmd, args...)
	c.Dir = dir
	c.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	t0 := time.Now()
	err := c.Run()
	took := time.Since(t0)
	if err != nil {
		tail := errb.String()
		if len(tail) > 6000 {
			tail = "…" + tail[len(tail)-6000:]
		}
		b.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", cmd, strings.Join(args, " "), err, out.String(), tail)
	}
	return out.String(), errb.String(), took
}

// reference runs `devcontainer build` of the reference CLI.
func (bn *bench) reference(b *testing.B, ws string, args ...string) time.Duration {
	_, _, took := run(b, bn.refEnv, ws, "node", append([]string{bn.cli, "build", "--workspace-folder", ws}, args...)...)
	return took
}

// devcache runs `docker devcache …` with --progress rawjson in a fresh
// XDG_CACHE_HOME (no resolve cache) and returns the solve's steps and
// stdout.
func (bn *bench) devcache(b *testing.B, ws string, args ...string) (time.Duration, map[string]*step, string) {
	return bn.devcacheEnv(b, nil, ws, args...)
}

// devcacheEnv is devcache with more environment (e.g. the engine for
// --load).
func (bn *bench) devcacheEnv(b *testing.B, more []string, ws string, args ...string) (time.Duration, map[string]*step, string) {
	env := append(append([]string{"XDG_CACHE_HOME=" + b.TempDir()}, bn.env...), more...)
	out, errOut, took := run(b, env, ws, "docker", append(append([]string{"devcache"}, args...), "--progress", "rawjson")...)
	return took, steps(errOut), out
}

// image is an image's size as pushed: compressed layer bytes and layers.
type image struct {
	bytes  int64
	layers int
}

func imageOf(b *testing.B, ref string) image {
	b.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		b.Fatal(err)
	}
	img, err := remote.Image(r)
	if err != nil {
		b.Fatalf("reading %s: %v", ref, err)
	}
	m, err := img.Manifest()
	if err != nil {
		b.Fatal(err)
	}
	var im image
	for _, l := range m.Layers {
		im.bytes += l.Size
		im.layers++
	}
	return im
}
