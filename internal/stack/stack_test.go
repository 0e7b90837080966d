package stack

import (
	"context"
	"maps"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/worker/label"
)

// needStack skips (fails under CI=true) when this machine cannot run a
// stack.
func needStack(tb testing.TB) {
	tb.Helper()
	if err := Preflight(false); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("CI=true needs the real stack: %v", err)
		}
		tb.Skipf("cannot run the stack here: %v", err)
	}
}

// logTo sends Up's progress lines to the test log.
type logTo struct{ tb testing.TB }

func (l logTo) Write(b []byte) (int, error) {
	l.tb.Logf("%s", strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// pids maps each daemon to its pid, 0 when not running.
func pids(ctx context.Context, s *Stack) map[string]int {
	m := map[string]int{}
	for _, c := range s.Status(ctx)[:len(daemonFiles)] {
		m[c.Name] = c.PID
	}
	return m
}

func TestUpDown(t *testing.T) {
	needStack(t)
	ctx := t.Context()
	s, err := Up(ctx, Options{Dir: t.TempDir(), Log: logTo{t}, Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Down(); err != nil {
			t.Error(err)
		}
	})
	started := pids(ctx, s)
	if started[registryName] == 0 || started[buildkitdName] == 0 {
		t.Fatalf("daemons after Up: %v", started)
	}

	t.Run("busybox seed", func(t *testing.T) {
		for _, repo := range []string{BusyboxRepo, "library/" + BusyboxRepo} {
			ref, err := parseRef(s.Ref(repo))
			if err != nil {
				t.Fatal(err)
			}
			img, err := remote.Image(ref, remote.WithContext(ctx))
			if err != nil {
				t.Fatalf("%s: %v", ref, err)
			}
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if cf.Architecture != runtime.GOARCH || cf.OS != "linux" {
				t.Errorf("%s: platform %s/%s", ref, cf.OS, cf.Architecture)
			}
			if !slices.Contains(cf.Config.Env, "PATH="+defaultPATH) {
				t.Errorf("%s: Env %q lacks PATH", ref, cf.Config.Env)
			}
		}
	})

	t.Run("busybox seeding is reproducible", func(t *testing.T) {
		again := seed{repo: "again/busybox:latest", recipe: "test", build: s.busyboxSeed().build}
		if err := s.ensureSeed(ctx, again, logTo{t}); err != nil {
			t.Fatal(err)
		}
		var digests []string
		for _, repo := range []string{BusyboxRepo, again.repo} {
			ref, err := parseRef(s.Ref(repo))
			if err != nil {
				t.Fatal(err)
			}
			d, ok, err := headImage(ctx, ref)
			if err != nil || !ok {
				t.Fatalf("%s: %v, present %v", ref, err, ok)
			}
			digests = append(digests, d.Digest.String())
		}
		if digests[0] != digests[1] {
			t.Errorf("two seedings gave %s and %s", digests[0], digests[1])
		}
	})

	t.Run("buildkitd has an OCI worker", func(t *testing.T) {
		c, err := s.Client(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ws, err := c.ListWorkers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ws) != 1 || ws[0].Labels[label.Executor] != "oci" {
			t.Fatalf("workers = %+v, want one OCI worker", ws)
		}
		t.Logf("worker %s, snapshotter %s, buildkit %s", ws[0].ID, ws[0].Labels[label.Snapshotter], ws[0].BuildkitVersion.Version)
	})

	t.Run("solve RUN on the seed", func(t *testing.T) {
		got := solveFile(t, s, llb.Image(s.Ref(BusyboxRepo)))
		if got != "ok\n" {
			t.Errorf("/x = %q, want ok", got)
		}
	})

	t.Run("docker.io resolves through the mirror", func(t *testing.T) {
		if got := solveFile(t, s, llb.Image("busybox")); got != "ok\n" {
			t.Errorf("/x = %q, want ok", got)
		}
	})

	t.Run("Env", func(t *testing.T) {
		env := strings.Join(s.Env(), "\n")
		for _, want := range []string{"BUILDKIT_HOST=" + s.BuildkitAddr, "DOCKER_CONFIG=" + s.DockerConfig, "DEVCACHE_REGISTRY=" + s.Registry, "DEVCACHE_STACK_DIR=" + s.Dir, "PATH=" + s.BinDir + ":"} {
			if !strings.Contains(env, want) {
				t.Errorf("Env lacks %q:\n%s", want, env)
			}
		}
		if !fileExists(filepath.Join(s.DockerConfig, "cli-plugins", binBuildx)) || !s.builderConfigured() {
			t.Errorf("DOCKER_CONFIG %s has no buildx plugin or builder", s.DockerConfig)
		}
	})

	t.Run("second Up starts nothing", func(t *testing.T) {
		start := time.Now()
		s2, err := Up(ctx, Options{Dir: s.Dir, Log: logTo{t}, Ephemeral: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("second Up took %s", time.Since(start))
		if now := pids(ctx, s); !maps.Equal(now, started) {
			t.Errorf("pids changed from %v to %v", started, now)
		}
		if s2.Registry != s.Registry || s2.BinDir != s.BinDir {
			t.Errorf("second Up moved the stack: %v, was %v", s2, s)
		}
		l, err := Load(s.Dir)
		if err != nil || *l != *s {
			t.Errorf("Load = %+v, %v; want %+v", l, err, s)
		}
	})

	t.Run("Up restarts a dead daemon", func(t *testing.T) {
		if err := syscall.Kill(started[registryName], syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if !waitExit(started[registryName], 5*time.Second) {
			t.Fatal("registry did not die")
		}
		if err := s.Check(ctx); err == nil || !strings.Contains(err.Error(), "registry") {
			t.Errorf("Check with the registry dead = %v", err)
		}
		s3, err := Up(ctx, Options{Dir: s.Dir, Log: logTo{t}, Ephemeral: true})
		if err != nil {
			t.Fatal(err)
		}
		now := pids(ctx, s)
		if now[registryName] == 0 || now[registryName] == started[registryName] {
			t.Errorf("pids %v after restarting the registry, were %v", now, started)
		}
		// buildkitd is kept unless the registry had to move to another
		// port (another process took the old one meanwhile), which changes
		// buildkitd's mirror configuration.
		if s3.Registry == s.Registry && now[buildkitdName] != started[buildkitdName] {
			t.Errorf("buildkitd restarted (pids %v, were %v) although the registry kept %s", now, started, s.Registry)
		}
		s = s3
		started = now
	})

	t.Run("Down stops the daemons", func(t *testing.T) {
		if err := s.Down(); err != nil {
			t.Fatal(err)
		}
		for _, d := range daemonFiles {
			if pid := started[d.name]; alive(pid, filepath.Join(s.Dir, d.config)) {
				t.Errorf("%s (pid %d) still runs", d.name, pid)
			}
			if fileExists(filepath.Join(s.Dir, d.name+".pid")) {
				t.Errorf("%s.pid still exists", d.name)
			}
		}
		if err := s.Check(ctx); err == nil {
			t.Error("Check after Down = nil")
		}
		if err := s.Down(); err != nil {
			t.Errorf("second Down: %v", err)
		}
	})
}

// solveFile runs `echo ok > /x` on base and returns the exported /x.
func solveFile(t *testing.T, s *Stack, base llb.State) string {
	t.Helper()
	ctx := t.Context()
	run := base.Run(llb.Shlex(`sh -c "echo ok > /x"`)).Root()
	def, err := llb.Scratch().File(llb.Copy(run, "/x", "/x")).Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out := t.TempDir()
	if _, err := c.Solve(ctx, def, client.SolveOpt{
		Exports: []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: out}},
	}, nil); err != nil {
		t.Fatalf("solve: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(out, "x"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestUpRefusesAPortInUse(t *testing.T) {
	needStack(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	s, err := Up(t.Context(), Options{Dir: t.TempDir(), RegistryPort: port, Ephemeral: true})
	if err == nil {
		s.Down()
		t.Fatal("Up succeeded on a busy port")
	}
	if !strings.Contains(err.Error(), "127.0.0.1:"+strconv.Itoa(port)+" is in use") {
		t.Errorf("error does not name the busy port: %v", err)
	}
}
