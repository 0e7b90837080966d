package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/devcache/devcache/internal/frontendimage"
	"github.com/devcache/devcache/internal/imagetest"
	"github.com/devcache/devcache/internal/stack"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// moduleRoot is the repository root (for bake and go build).
func moduleRoot(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// run runs a command with env added to the test's environment and returns
// its stdout; on failure it fails the test with stdout and stderr.
func run(t testing.TB, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, errOut, err := runErr(dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func runErr(dir string, env []string, name string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// dockerEnv is the environment for docker CLI commands against the stack,
// with its own copy of the stack's DOCKER_CONFIG (buildx plugin and the
// current builder) so tests can add plugins without touching anything else.
func dockerEnv(t testing.TB, s *stack.Stack) (env []string, dockerConfig string) {
	t.Helper()
	dc := t.TempDir()
	run(t, "", nil, "cp", "-a", s.DockerConfig+"/.", dc)
	return []string{"DOCKER_CONFIG=" + dc, "BUILDX_NO_DEFAULT_ATTESTATIONS=1", "PATH=" + s.BinDir + ":" + os.Getenv("PATH")}, dc
}

// frontendImage is the bake-built frontend image in the stack's registry,
// built once per test binary (package frontendimage).
func frontendImage(t testing.TB, s *stack.Stack) string {
	t.Helper()
	ref, err := frontendimage.Ensure(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// imageConfig reads the config of ref from the registry.
func imageConfig(t testing.TB, ref string) (*v1.ConfigFile, v1.Hash) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r)
	if err != nil {
		t.Fatalf("read %s: %v", ref, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return cfg, d
}

// writeWorkspace writes files (path → content) under a new workspace dir.
func writeWorkspace(t testing.TB, files map[string]string) string {
	t.Helper()
	ws := t.TempDir()
	for p, content := range files {
		full := filepath.Join(ws, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return ws
}

func mustJSON(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// imageFiles reads the regular files of ref's flattened filesystem.
func imageFiles(t testing.TB, ref string) map[string]string {
	t.Helper()
	img, err := imagetest.Read(ref)
	if err != nil {
		t.Fatal(err)
	}
	return img.Files
}
