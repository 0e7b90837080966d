package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/devcache/devcache/internal/progresstest"
	"github.com/devcache/devcache/internal/stack"
)

var (
	pluginOnce sync.Once
	pluginBin  string
	pluginErr  error
)

// pluginBinary builds cmd/docker-devcache once per test binary, into one
// place per source tree (replaced atomically, so concurrent test binaries and
// earlier runs leave a single copy behind).
func pluginBinary(t testing.TB) string {
	t.Helper()
	pluginOnce.Do(func() {
		// One place per source tree: worktrees of other branches build
		// their own binary at the same time.
		sum := sha256.Sum256([]byte(moduleRoot(t)))
		dir := filepath.Join(os.TempDir(), "devcache-e2e-plugin-"+hex.EncodeToString(sum[:6]))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			pluginErr = err
			return
		}
		// Both binaries in a directory of this run's own: a test binary
		// running a previous build keeps it.
		build, err := os.MkdirTemp(dir, "build-")
		if err != nil {
			pluginErr = err
			return
		}
		pluginBin, pluginErr = stack.InstallPlugin(context.Background(), build, "")
	})
	if pluginErr != nil {
		t.Fatal(pluginErr)
	}
	return pluginBin
}

// freshDaemon starts another stack in its own directory: an empty
// buildkitd (a fresh CI runner) whose loopback registries include the main
// stack's. It is stopped when the test ends.
func freshDaemon(t *testing.T) *stack.Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := t.TempDir()
	s, err := stack.Up(ctx, stack.Options{Dir: dir, Ephemeral: true})
	if err != nil {
		t.Fatalf("starting a second stack: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Down(); err != nil {
			t.Errorf("stopping the second stack: %v", err)
		}
	})
	return s
}

// vertexRuns reads --progress rawjson output and returns, for each vertex
// name, whether it ran (started and not cached) in one of the solves.
func vertexRuns(t testing.TB, rawjson string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for name, s := range progresstest.Read(rawjson) {
		out[name] = s.Ran
	}
	return out
}

// execSteps filters vertexRuns to the Dockerfile RUN steps.
func execSteps(runs map[string]bool) map[string]bool {
	out := map[string]bool{}
	for n, ran := range runs {
		if i := strings.Index(n, "RUN "); i >= 0 {
			out[strings.TrimSpace(n[i+4:])] = ran
		}
	}
	return out
}

// authRegistry runs Debian's docker-registry with htpasswd auth on a free
// loopback port until the test ends; it returns host:port.
func authRegistry(t *testing.T, user, password string) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Fatalf("docker-registry (Debian package docker-registry) is needed: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %q
  delete:
    enabled: true
http:
  addr: %q
  secret: devcache-auth-test
auth:
  htpasswd:
    realm: devcache-test
    path: %q
`, filepath.Join(dir, "data"), addr, htpasswd), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return addr
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "registry.log"))
			t.Fatalf("the authenticated registry on %s did not answer 401 on /v2/: %v\n%s", addr, err, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
