package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/moby/buildkit/client"
)

// Stack is a running (or once running) local stack, described by the files
// in Dir.
type Stack struct {
	Dir          string // state directory: configs, pid files, logs, data
	BinDir       string // buildkitd, buildctl, docker-buildx and crane
	BuildkitAddr string // unix://DIR/buildkitd.sock
	Registry     string // 127.0.0.1:PORT
	DockerConfig string // isolated DOCKER_CONFIG with the buildx plugin and builder
	Builder      string // buildx builder name in DockerConfig

	cacheDir string
}

// Options configure Up.
type Options struct {
	// Dir is the state directory (required). Only one stack may use it.
	Dir string
	// RegistryPort is the registry's port on 127.0.0.1; 0 keeps the port of
	// an earlier Up in Dir when possible, else picks a free one.
	RegistryPort int
	// Debian also seeds <registry>/debian:bookworm (mmdebstrap the first
	// time on a machine).
	Debian bool
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// Ephemeral makes the daemons receive SIGTERM when the calling process
	// dies (for test binaries). They still run in their own session.
	Ephemeral bool

	// BinDir overrides where the tools are built; default
	// CacheDir()/bin/<stamp>, shared by every stack on the machine.
	BinDir string
	// CacheDir overrides CacheDir().
	CacheDir string
	// ModuleRoot overrides ModuleRoot(), the module whose go.mod pins the
	// tools.
	ModuleRoot string
}

// Up brings the stack in opts.Dir to a running, seeded state and returns
// it. It is idempotent: daemons that run with the wanted configuration and
// answer are kept, seed images that exist are not pushed again, and tools
// whose stamp matches are not rebuilt.
func Up(ctx context.Context, opts Options) (*Stack, error) {
	if opts.Dir == "" {
		return nil, errors.New("stack: Options.Dir is required")
	}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	if err := Preflight(false); err != nil {
		return nil, fmt.Errorf("stack: this machine cannot run the stack:\n%w", err)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("stack: creating the state directory: %w", err)
	}
	unlock, err := lockPath(ctx, filepath.Join(dir, lockFile), log)
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	defer unlock()

	s, err := newStack(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	if err := s.up(ctx, opts, log); err != nil {
		return nil, fmt.Errorf("stack in %s: %w", dir, err)
	}
	return s, nil
}

// newStack resolves the stack's paths and registry address.
func newStack(dir string, opts Options) (*Stack, error) {
	s := &Stack{
		Dir:          dir,
		BuildkitAddr: "unix://" + filepath.Join(dir, buildkitdSocket),
		DockerConfig: filepath.Join(dir, dockerConfigDir),
		Builder:      BuilderName,
		cacheDir:     opts.CacheDir,
	}
	var err error
	if s.cacheDir == "" {
		s.cacheDir, err = CacheDir()
	} else {
		s.cacheDir, err = filepath.Abs(s.cacheDir)
	}
	if err != nil {
		return nil, err
	}
	if opts.BinDir != "" {
		if s.BinDir, err = filepath.Abs(opts.BinDir); err != nil {
			return nil, err
		}
	}
	port := opts.RegistryPort
	if port == 0 {
		port = previousPort(dir)
	}
	if port == 0 {
		p, err := freeLoopbackPort()
		if err != nil {
			return nil, err
		}
		port = p
	}
	s.Registry = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return s, nil
}

func (s *Stack) up(ctx context.Context, opts Options, log io.Writer) error {
	root := opts.ModuleRoot
	if root == "" {
		r, err := ModuleRoot()
		if err != nil {
			return err
		}
		root = r
	}
	t, err := loadTools(root)
	if err != nil {
		return err
	}
	if s.BinDir == "" {
		s.BinDir = t.defaultBinDir(s.cacheDir)
	}
	if err := t.ensure(ctx, s.BinDir, log); err != nil {
		return err
	}
	if opts.BinDir == "" {
		pruneBuilds(filepath.Dir(s.BinDir), filepath.Base(s.BinDir), log)
	}

	regBin, err := toolRegistry.path()
	if err != nil {
		return err
	}
	if err := s.ensureRegistry(ctx, regBin, opts, log); err != nil {
		return err
	}
	bk, err := s.buildkitdDaemon(filepath.Join(s.BinDir, binBuildkitd))
	if err != nil {
		return err
	}
	if _, _, err := bk.ensure(ctx, opts.Ephemeral, log); err != nil {
		return err
	}
	// Recorded before seeding, so that env, status and Down work on a
	// stack whose seeding failed.
	if err := writeState(s); err != nil {
		return err
	}

	if err := s.ensureSeed(ctx, s.busyboxSeed(), log); err != nil {
		return err
	}
	if opts.Debian {
		if err := s.ensureSeed(ctx, s.debianSeed(log), log); err != nil {
			return err
		}
	}
	return s.ensureDockerConfig(ctx, log)
}

// SeedDebian pushes <registry>/debian:bookworm (and library/debian:bookworm)
// unless present, making the rootfs with mmdebstrap if this machine has not
// cached it yet. Up does this with Options.Debian; tests that need Debian
// call it on demand. log may be nil.
func (s *Stack) SeedDebian(ctx context.Context, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	if err := s.ensureSeed(ctx, s.debianSeed(log), log); err != nil {
		return fmt.Errorf("stack in %s: %w", s.Dir, err)
	}
	return nil
}

// Down stops the daemons whose pid files this package wrote in Dir (and
// only while the pid still names that daemon) and removes the pid files.
// State (registry data, BuildKit cache, DOCKER_CONFIG) is kept for the next
// Up. It needs only Dir.
func (s *Stack) Down() error {
	// In reverse start order: buildkitd may be pushing to the registry.
	var errs []error
	for _, d := range slices.Backward(daemonFiles) {
		errs = append(errs, stopDaemon(s.Dir, d.name, d.config))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stack in %s: %w", s.Dir, err)
	}
	return nil
}

// Ref names repo (with an optional :tag or @digest) in the stack's
// registry: Ref("busybox") is "127.0.0.1:PORT/busybox".
func (s *Stack) Ref(repo string) string {
	return s.Registry + "/" + repo
}

// Client connects a BuildKit client to the stack's buildkitd. The caller
// closes it.
func (s *Stack) Client(ctx context.Context) (*client.Client, error) {
	c, err := client.New(ctx, s.BuildkitAddr)
	if err != nil {
		return nil, fmt.Errorf("connecting to buildkitd at %s: %w", s.BuildkitAddr, err)
	}
	return c, nil
}
