package repotest

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReadmeDemo runs the README's first command, hack/demo, the way a user
// does on a machine of this kind: it must set up the stack, build, push and
// probe the example and the Compose example, and end by printing the pushed
// image reference. It
// runs under CI=true (or DEVCACHE_TEST_DEMO=1): it takes a minute or two
// and needs root.
//
// The README's two commands run in any order: a stack left running by an
// earlier hack/demo or hack/stack up holds 127.0.0.1:5000, so this demo runs
// its own stack (own DEVCACHE_STACK_DIR, a free registry port) and the
// example follows the stack's address. When :5000 is free the test holds it
// with a server that is not a registry, so any part still naming :5000
// fails the demo.
func TestReadmeDemo(t *testing.T) {
	if os.Getenv("CI") != "true" && os.Getenv("DEVCACHE_TEST_DEMO") != "1" {
		t.Skip("runs under CI=true or DEVCACHE_TEST_DEMO=1")
	}
	holdPort5000(t)
	root := repoRoot(t)
	state := t.TempDir()
	env := append(os.Environ(), "DEVCACHE_STACK_DIR="+state, "DEVCACHE_REGISTRY_PORT=0", "BUILDKIT_PROGRESS=plain")
	t.Cleanup(func() {
		down := exec.Command(filepath.Join(root, "hack", "stack"), "down")
		down.Dir, down.Env = root, env
		if out, err := down.CombinedOutput(); err != nil {
			t.Errorf("hack/stack down: %v\n%s", err, out)
		}
	})
	cmd := exec.Command(filepath.Join(root, "hack", "demo"))
	cmd.Dir, cmd.Env = root, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("hack/demo: %v\nstdout:\n%s\nstderr (end):\n%s", err, stdout.String(), tail(stderr.String(), 60))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	last := lines[len(lines)-1]
	if !regexp.MustCompile(`^127\.0\.0\.1:[0-9]+/\S+@sha256:[0-9a-f]{64}$`).MatchString(last) {
		t.Errorf("hack/demo's last line is %q, want the pushed image reference", last)
	}
	if strings.HasPrefix(last, "127.0.0.1:5000/") {
		t.Errorf("hack/demo pushed to %q, the other stack's registry, want its own", last)
	}
	for _, want := range []string{"DEVCACHE_CACHED_IMAGE=", "⚡ Using pre-built dev container"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("hack/demo's output lacks %q", want)
		}
	}
	// The Compose example (README, "Docker Compose configs"): pushed, then
	// a probe hit.
	if !regexp.MustCompile(`(?s)examples/compose: docker devcache probe.*\nDEVCACHE_CACHED_IMAGE=127\.0\.0\.1:[0-9]+/examples/compose-cache@sha256:[0-9a-f]{64}\n`).MatchString(stderr.String()) {
		t.Errorf("hack/demo did not probe the pushed Compose example:\n%s", tail(stderr.String(), 20))
	}
}

// holdPort5000 serves 127.0.0.1:5000 for the test, as another stack's
// registry would, unless something listens there already. Its answers
// are errors: it is not a registry.
func holdPort5000(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:5000")
	if err != nil {
		if c, derr := net.DialTimeout("tcp", "127.0.0.1:5000", time.Second); derr == nil {
			c.Close()
			t.Log("127.0.0.1:5000 is in use already (another stack?): the demo must run beside it")
			return
		}
		t.Fatalf("holding 127.0.0.1:5000: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Logf("the other stack's port was used: %s %s", r.Method, r.URL)
		http.Error(w, "not hack/demo's registry", http.StatusServiceUnavailable)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

func tail(s string, n int) string {
	l := strings.Split(s, "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
