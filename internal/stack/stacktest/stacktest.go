// Package stacktest gives integration tests the real local stack (package
// stack): one per test binary, shared by its tests.
//
// Use it from a TestMain:
//
//	func TestMain(m *testing.M) { stacktest.Main(m) }
//
//	func TestBuild(t *testing.T) {
//		s := stacktest.Get(t)
//		c, err := s.Client(ctx)
//		...
//	}
//
// The first Get either attaches to the stack named by DEVCACHE_STACK_DIR
// (hack/stack up; eval "$(hack/stack env)") when it is healthy, or starts a
// private stack in a temporary directory with a free registry port; Main
// stops a private stack when the tests end. The tools are built once per
// machine into the shared cache, not per test binary.
//
// When the stack cannot start (not root, runc missing, …), Get skips the
// test with the reason, except under CI=true, where it fails it: CI must
// not pass by skipping its integration tests.
package stacktest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devcache/devcache/internal/stack"
)

// startTimeout bounds the first Get: a cold machine builds the tools (a
// minute or more) and maybe the Debian rootfs.
const startTimeout = 15 * time.Minute

var (
	mainCalled bool

	once    sync.Once
	current *stack.Stack
	private string // temporary directory of a stack this binary started
	failure error

	debianOnce sync.Once
	debianErr  error
)

// Main runs the tests and then stops the stack if this binary started it.
// Call it from TestMain; it does not return.
func Main(m *testing.M) {
	os.Exit(run(m))
}

// MainTrusting is Main for tests whose daemon must trust more TLS
// certificates (PEM), such as resolvetest's https server for tarball
// features: they go into a directory put first in SSL_CERT_DIR before the
// stack starts, so a private stack's buildkitd (and this process) trusts
// them alongside the system's. A stack attached through DEVCACHE_STACK_DIR
// keeps its own trust.
func MainTrusting(m *testing.M, certs ...[]byte) {
	dir, err := os.MkdirTemp("", "devcache-ca-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "stacktest: %v\n", err)
		os.Exit(1)
	}
	for i, c := range certs {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("cert%d.pem", i)), c, 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "stacktest: %v\n", err)
			os.Exit(1)
		}
	}
	dirs := dir + ":/etc/ssl/certs"
	if old := os.Getenv("SSL_CERT_DIR"); old != "" {
		dirs = dir + ":" + old
	}
	os.Setenv("SSL_CERT_DIR", dirs)
	code := run(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs the tests and stops a private stack; it returns the exit code.
func run(m *testing.M) int {
	mainCalled = true
	code := m.Run()
	if err := shutdown(); err != nil {
		fmt.Fprintf(os.Stderr, "stacktest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	if failure != nil && ciStrict() && code == 0 {
		code = 1 // make sure a CI run never passes without its stack
	}
	return code
}

// Get returns the binary's stack, starting or attaching to it on first use.
// It skips the test when no stack can run here, or fails it under CI=true.
func Get(t testing.TB) *stack.Stack {
	t.Helper()
	if !mainCalled {
		t.Fatal("stacktest: call stacktest.Main(m) from TestMain, so the stack is stopped after the tests")
	}
	once.Do(setup)
	if failure != nil {
		if ciStrict() {
			t.Fatalf("stacktest: the real stack is required under CI=true but is not available:\n%v", failure)
		}
		t.Skipf("stacktest: no real stack here (set CI=true to fail instead of skipping):\n%v", failure)
	}
	return current
}

// Debian returns the reference of the Debian bookworm seed image
// (<registry>/debian:bookworm), seeding it once per binary if needed.
func Debian(t testing.TB) string {
	t.Helper()
	s := Get(t)
	debianOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		debianErr = s.SeedDebian(ctx, logWriter())
	})
	if debianErr != nil {
		if ciStrict() {
			t.Fatalf("stacktest: seeding Debian: %v", debianErr)
		}
		t.Skipf("stacktest: no Debian seed image here: %v", debianErr)
	}
	return s.Ref(stack.DebianRepo)
}

func ciStrict() bool { return os.Getenv("CI") == "true" }

func setup() {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	log := logWriter()
	if dir := os.Getenv("DEVCACHE_STACK_DIR"); dir != "" {
		s, err := stack.Attach(ctx, dir)
		if err == nil {
			current = s
			return
		}
		fmt.Fprintf(log, "DEVCACHE_STACK_DIR=%s is not usable, starting a private stack instead: %v\n", dir, err)
	}
	if err := stack.Preflight(false); err != nil {
		failure = err
		return
	}
	dir, err := os.MkdirTemp("", "devcache-stack-")
	if err != nil {
		failure = fmt.Errorf("creating a stack directory: %w", err)
		return
	}
	private = dir
	s, err := stack.Up(ctx, stack.Options{Dir: dir, Log: log, Ephemeral: true})
	if err != nil {
		failure = err
		return
	}
	current = s
}

// shutdown stops a private stack and removes its directory.
func shutdown() error {
	if private == "" {
		return nil
	}
	if err := (&stack.Stack{Dir: private}).Down(); err != nil {
		// Keep the directory: its logs explain the failure.
		return fmt.Errorf("stopping the private stack (left in %s): %w", private, err)
	}
	if failure != nil {
		fmt.Fprintf(os.Stderr, "stacktest: the private stack failed to start; its logs are in %s\n", private)
		return nil
	}
	if err := os.RemoveAll(private); err != nil {
		return fmt.Errorf("removing the private stack directory: %w", err)
	}
	return nil
}

// logWriter sends progress lines to stderr, where go test shows them for
// failing or verbose runs; a cold start takes long enough to want them.
func logWriter() io.Writer { return prefixed{} }

type prefixed struct{}

func (prefixed) Write(b []byte) (int, error) {
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if l != "" {
			fmt.Fprint(os.Stderr, "stacktest: "+l)
		}
	}
	return len(b), nil
}
