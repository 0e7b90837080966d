package stack

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	// debianSuite is the Debian release of the seed image.
	debianSuite = "bookworm"
	// debianRecipe changes whenever the rootfs or image recipe does; it
	// names the cached rootfs too.
	debianRecipe = "debian-v3"
)

func (s *Stack) debianSeed(log io.Writer) seed {
	return seed{repo: DebianRepo, recipe: debianRecipe, build: func(ctx context.Context) (v1.Image, error) {
		gz, err := debianRootfs(ctx, s.cacheDir, log)
		if err != nil {
			return nil, err
		}
		layer, err := tarball.LayerFromFile(gz, tarball.WithMediaType(types.OCILayer))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", gz, err)
		}
		return seedImage(layer, []string{"bash"}, "devcache stack: mmdebstrap --variant=minbase --include=ca-certificates "+debianSuite)
	}}
}

// debianRootfs returns the cached, gzipped minbase rootfs for this
// architecture, making it with mmdebstrap first if needed (once per
// machine, about 20 s). The file is written once and never changed, so the
// image digest is stable on this machine; with SOURCE_DATE_EPOCH fixed it
// is also the same on machines that install the same package versions.
func debianRootfs(ctx context.Context, cacheDir string, log io.Writer) (string, error) {
	dir := filepath.Join(cacheDir, "images")
	out := filepath.Join(dir, fmt.Sprintf("%s-%s-minbase-%s.tar.gz", debianRecipe, debianSuite, runtime.GOARCH))
	if fileExists(out) {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	unlock, err := lockPath(ctx, out+".lock", log)
	if err != nil {
		return "", err
	}
	defer unlock()
	if fileExists(out) {
		return out, nil
	}
	mmdebstrap, err := toolDebootst.path()
	if err != nil {
		return "", err
	}
	logPath := filepath.Join(dir, "mmdebstrap.log")
	fmt.Fprintf(log, "making the Debian %s rootfs with mmdebstrap into %s (once per machine; log %s)\n", debianSuite, out, logPath)
	start := time.Now()
	if err := runMmdebstrap(ctx, mmdebstrap, out, logPath); err != nil {
		return "", err
	}
	fmt.Fprintf(log, "made the Debian rootfs in %s\n", time.Since(start).Round(100*time.Millisecond))
	return out, nil
}

// runMmdebstrap streams the rootfs tar from mmdebstrap through gzip into a
// temporary file and renames it to out when complete.
func runMmdebstrap(ctx context.Context, mmdebstrap, out, logPath string) error {
	logf, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("creating %s: %w", logPath, err)
	}
	defer logf.Close()
	tmp, err := os.CreateTemp(filepath.Dir(out), ".debian-*.tar.gz")
	if err != nil {
		return fmt.Errorf("creating a temporary rootfs file: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	// No device nodes in /dev: images don't carry them, runtimes make them.
	cmd := exec.CommandContext(ctx, mmdebstrap, "--variant=minbase", "--include=ca-certificates",
		"--skip=output/dev", "--format=tar", debianSuite, "-")
	cmd.Stderr = logf
	cmd.Env = append(os.Environ(), "PATH="+sbinPATH(os.Getenv("PATH")),
		"SOURCE_DATE_EPOCH="+strconv.FormatInt(seedTime.Unix(), 10))
	zw := gzip.NewWriter(tmp)
	cmd.Stdout = zw
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("mmdebstrap %s: %w; see %s:\n%s", debianSuite, err, logPath, logTail(logPath))
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compressing the Debian rootfs: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the Debian rootfs: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("caching the Debian rootfs: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("caching the Debian rootfs: %w", err)
	}
	return nil
}
