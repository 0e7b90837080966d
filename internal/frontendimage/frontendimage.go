// Package frontendimage builds devcache's frontend image for tests of the
// `// syntax=` route the way a release builds it, with `docker buildx bake
// frontend` against a test stack (package stack), and pushes it to the
// stack's registry, once per process and registry. The Go builder stage
// uses a Go image made from this machine's toolchain (package goimage), so
// no public registry is needed. It also pushes BuildKit's own Dockerfile
// frontend (PushDockerfileFrontend), the image a `# syntax=` line or the
// reference CLI runs, built from the pinned BuildKit module.
package frontendimage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/devcache/devcache/internal/goimage"
	"github.com/devcache/devcache/internal/stack"
)

// Repo is the repository and tag the image of this module is pushed to in
// the stack's registry.
const Repo = "devcache/frontend:test"

// bakeTimeout bounds the bake: a cold builder compiles the frontend with
// empty module and build caches.
const bakeTimeout = 20 * time.Minute

type build struct {
	once sync.Once
	ref  string
	err  error
}

var (
	mu     sync.Mutex
	builds = map[string]*build{} // by registry and source tree
)

// Ensure builds this module's frontend image and pushes it to s's registry
// on its first call for that registry, and returns the image's reference
// (<registry>/Repo), to put after `// syntax=`. Later calls, also
// concurrent ones, wait for and share the first call's result, error
// included.
func Ensure(ctx context.Context, s *stack.Stack) (string, error) {
	root, err := stack.ModuleRoot()
	if err != nil {
		return "", err
	}
	return ensure(ctx, s, root, Repo)
}

// EnsureFrom is Ensure for another source tree of devcache (e.g. an older
// commit's, to show what a test catches), pushed as
// devcache/frontend:test-<hash of src>.
func EnsureFrom(ctx context.Context, s *stack.Stack, src string) (string, error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(abs))
	return ensure(ctx, s, abs, fmt.Sprintf("%s-%x", Repo, sum[:6]))
}

func ensure(ctx context.Context, s *stack.Stack, root, repo string) (string, error) {
	key := s.Registry + "\x00" + root
	mu.Lock()
	b, ok := builds[key]
	if !ok {
		b = &build{}
		builds[key] = b
	}
	mu.Unlock()
	b.once.Do(func() { b.ref, b.err = bake(ctx, s, root, repo) })
	return b.ref, b.err
}

// bake runs `docker buildx bake frontend --push` in root with a private
// copy of the stack's DOCKER_CONFIG (its buildx builder).
func bake(ctx context.Context, s *stack.Stack, root, repo string) (string, error) {
	goRef, err := goimage.Ensure(ctx, s.Registry, s.Ref("busybox:latest"))
	if err != nil {
		return "", fmt.Errorf("frontend image: the Go builder image: %w", err)
	}
	dc, err := os.MkdirTemp("", "devcache-bake-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dc)
	if out, err := exec.CommandContext(ctx, "cp", "-a", s.DockerConfig+"/.", dc).CombinedOutput(); err != nil {
		return "", fmt.Errorf("frontend image: copying the stack's DOCKER_CONFIG %s: %v\n%s", s.DockerConfig, err, out)
	}
	ref := s.Ref(repo)
	ctx, cancel := context.WithTimeout(ctx, bakeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", "buildx", "bake", "frontend",
		"--set", "frontend.args.GO_IMAGE="+goRef,
		"--set", "frontend.tags="+ref,
		"--push", "--progress", "plain")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+dc, "BUILDX_NO_DEFAULT_ATTESTATIONS=1",
		"PATH="+s.BinDir+":"+os.Getenv("PATH"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker buildx bake frontend (in %s): %v\n%s", root, err, tail(out.String()))
	}
	return ref, nil
}

func tail(s string) string {
	const max = 8000
	if len(s) > max {
		return "…" + s[len(s)-max:]
	}
	return s
}
