package frontendimage

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

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/mod/modfile"

	"github.com/devcache/devcache/internal/stack"
)

const (
	dockerfileFrontendPkg = "github.com/moby/buildkit/frontend/dockerfile/cmd/dockerfile-frontend"
	// dockerfileFrontendCaps lets buildx pass named contexts
	// (--build-context), which the reference CLI uses for feature content.
	dockerfileFrontendCaps = "moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
)

// PushDockerfileFrontend pushes BuildKit's own Dockerfile frontend, of the
// version go.mod pins, to ref as a scratch image with the binary, its
// entrypoint and the caps label (what `# syntax=docker/dockerfile:…` runs),
// and returns the image's digest. The binary is built once per machine.
func PushDockerfileFrontend(ctx context.Context, ref string) (string, error) {
	bin, err := dockerfileFrontendBinary(ctx)
	if err != nil {
		return "", err
	}
	img, err := dockerfileFrontendImage(bin)
	if err != nil {
		return "", err
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", err
	}
	if err := remote.Write(r, img, remote.WithContext(ctx)); err != nil {
		return "", fmt.Errorf("pushing %s: %w", r, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// dockerfileFrontendImage is the reproducible image around bin.
func dockerfileFrontendImage(bin string) (v1.Image, error) {
	content, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	img, err := FileImage(content, "bin/dockerfile-frontend", runtime.GOARCH)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Config.Entrypoint = []string{"/bin/dockerfile-frontend"}
	cf.Config.Labels = map[string]string{"moby.buildkit.frontend.caps": dockerfileFrontendCaps}
	return mutate.ConfigFile(img, cf)
}

// FileImage is a reproducible linux/arch OCI image of one layer: the
// executable content at path (in a directory such as bin/).
func FileImage(content []byte, path, arch string) (v1.Image, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tw.WriteHeader(&tar.Header{Name: filepath.Dir(path) + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mtime})
	tw.WriteHeader(&tar.Header{Name: path, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(content)), ModTime: mtime})
	tw.Write(content)
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(mutate.ConfigMediaType(empty.Image, types.OCIConfigJSON), types.OCIManifestSchema1), layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Created = v1.Time{Time: mtime}
	return mutate.ConfigFile(img, cf)
}

// dockerfileFrontendBinary builds BuildKit's Dockerfile frontend from the
// version go.mod pins, once per machine (cached under the stack's cache
// directory by BuildKit and Go version).
func dockerfileFrontendBinary(ctx context.Context) (string, error) {
	root, err := stack.ModuleRoot()
	if err != nil {
		return "", err
	}
	version, err := buildkitVersion(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
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
	return bin, os.Rename(tmp, bin)
}

// buildkitVersion is the BuildKit version gomod requires.
func buildkitVersion(gomod string) (string, error) {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	mf, err := modfile.ParseLax(gomod, data, nil)
	if err != nil {
		return "", err
	}
	for _, r := range mf.Require {
		if r.Mod.Path == "github.com/moby/buildkit" {
			return r.Mod.Version, nil
		}
	}
	return "", fmt.Errorf("%s does not require github.com/moby/buildkit", gomod)
}
