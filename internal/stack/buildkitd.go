package stack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/client"
)

const buildkitdConfigName = "buildkitd.toml"

// mirroredRegistries resolve through the stack's registry, so references to
// public images (FROM debian:bookworm, ghcr.io/…, mcr.microsoft.com/…) work
// offline when the local registry holds the same repository path (e.g.
// library/debian for docker.io's debian).
var mirroredRegistries = []string{"docker.io", "ghcr.io", "mcr.microsoft.com"}

// buildkitdConfig is a rootful OCI-worker configuration: runc from PATH,
// overlayfs when the kernel allows it, the host network for RUN steps (no
// CNI config), an otel socket of its own (the default path collides between
// daemons), and a modest garbage collector.
func buildkitdConfig(root, addr, otel, registry string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `root = %q

[log]
  format = "text"

[grpc]
  address = [%q]

[otel]
  socketPath = %q

[worker.oci]
  enabled = true
  snapshotter = "auto"
  gc = true
  reservedSpace = "2GB"
  maxUsedSpace = "20GB"
  minFreeSpace = "5GB"

[worker.containerd]
  enabled = false

[registry.%q]
  http = true
`, root, addr, otel, registry)
	for _, r := range mirroredRegistries {
		fmt.Fprintf(&b, "\n[registry.%q]\n  mirrors = [%q]\n", r, registry)
	}
	return []byte(b.String())
}

func (s *Stack) buildkitdDaemon(bin string) (*daemon, error) {
	sock := strings.TrimPrefix(s.BuildkitAddr, "unix://")
	otel := filepath.Join(s.Dir, otelSocket)
	for _, p := range []string{sock, otel} {
		if len(p) > maxSocketPath {
			return nil, fmt.Errorf("socket path %s is longer than the %d bytes Linux allows; use a shorter stack directory", p, maxSocketPath)
		}
	}
	d := &daemon{
		name:       buildkitdName,
		dir:        s.Dir,
		configName: buildkitdConfigName,
		config:     buildkitdConfig(filepath.Join(s.Dir, buildkitdRootDir), s.BuildkitAddr, otel, s.Registry),
		bin:        bin,
		// Debian's runc is in /usr/sbin, not on every PATH.
		env: append(os.Environ(), "PATH="+sbinPATH(os.Getenv("PATH"))),
	}
	d.args = []string{"--config", d.configFile()}
	d.prepare = func() error {
		// Not running, so any socket files are stale.
		for _, p := range []string{sock, otel} {
			if err := removeIfExists(p); err != nil {
				return err
			}
		}
		return nil
	}
	d.check = func(ctx context.Context) error { return buildkitdAnswers(ctx, s.BuildkitAddr) }
	return d, nil
}

// buildkitdAnswers checks that the daemon lists at least one worker.
func buildkitdAnswers(ctx context.Context, addr string) error {
	if sock, ok := strings.CutPrefix(addr, "unix://"); ok && !fileExists(sock) {
		return fmt.Errorf("no socket at %s", sock)
	}
	c, err := client.New(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	ws, err := c.ListWorkers(ctx)
	if err != nil {
		return fmt.Errorf("listing workers: %w", err)
	}
	if len(ws) == 0 {
		return fmt.Errorf("no workers")
	}
	return nil
}
