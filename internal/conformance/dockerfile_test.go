package conformance

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/devcache/devcache/internal/stack"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/mod/modfile"
)

const (
	dockerfileFrontendPkg = "github.com/moby/buildkit/frontend/dockerfile/cmd/dockerfile-frontend"
	// frontendCaps lets buildx pass named contexts (--build-context), which
	// the reference CLI uses for the features content.
	frontendCaps = "moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
	// The reference CLI prepends `# syntax=docker/dockerfile:1.4`; the
	// builder mirrors docker.io to the stack's registry.
	dockerfileRepo = "docker/dockerfile:1.4"
)

// dockerfileFrontendBinary builds BuildKit's Dockerfile frontend from the
// version go.mod pins, once per machine (cached under the stack's cache
// directory by BuildKit and Go version).
func dockerfileFrontendBinary(ctx context.Context) (string, error) {
	root, err := stack.ModuleRoot()
	if err != nil {
		return "", err
	}
	gomod := filepath.Join(root, "go.mod")
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	mf, err := modfile.ParseLax(gomod, data, nil)
	if err != nil {
		return "", err
	}
	version := ""
	for _, r := range mf.Require {
		if r.Mod.Path == "github.com/moby/buildkit" {
			version = r.Mod.Version
		}
	}
	if version == "" {
		return "", fmt.Errorf("%s does not require github.com/moby/buildkit", gomod)
	}
	cache, err := stack.CacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "dockerfile-frontend", version+"-"+runtime.Version())
	bin := filepath.Join(dir, "dockerfile-frontend")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp := fmt.Sprintf("%s.tmp%d", bin, os.Getpid())
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", tmp, dockerfileFrontendPkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("go build %s: %v\n%s", dockerfileFrontendPkg, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// pushDockerfileFrontend pushes the Dockerfile frontend image as
// <registry>/docker/dockerfile:1.4 (a scratch image with the binary, its
// entrypoint and the caps label).
func pushDockerfileFrontend(ctx context.Context, s *stack.Stack) error {
	bin, err := dockerfileFrontendBinary(ctx)
	if err != nil {
		return err
	}
	content, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tw.WriteHeader(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mtime})
	tw.WriteHeader(&tar.Header{Name: "bin/dockerfile-frontend", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(content)), ModTime: mtime})
	tw.Write(content)
	if err := tw.Close(); err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(mutate.ConfigMediaType(empty.Image, types.OCIConfigJSON), types.OCIManifestSchema1), layer)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Created = v1.Time{Time: mtime}
	cf.Config.Entrypoint = []string{"/bin/dockerfile-frontend"}
	cf.Config.Labels = map[string]string{"moby.buildkit.frontend.caps": frontendCaps}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	ref, err := name.ParseReference(s.Ref(dockerfileRepo))
	if err != nil {
		return err
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
		return fmt.Errorf("pushing %s: %w", ref, err)
	}
	return nil
}
