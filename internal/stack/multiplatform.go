package stack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/containerd/platforms"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ForeignBusyboxDir holds Debian's busybox-static of other architectures,
// as hack/deps installs them: busybox-<Debian architecture> (arm64,
// armhf). Builds for them run under QEMU (qemu-user-static, binfmt_misc
// registered with the F flag).
const ForeignBusyboxDir = "/usr/local/lib/devcache/busybox"

// debianArch is the Debian architecture of an OCI platform.
var debianArch = map[string]string{"amd64": "amd64", "arm64": "arm64", "arm/v7": "armhf"}

// PushMultiPlatformBusybox pushes to ref an index of the busybox seed image
// for each platform (e.g. linux/amd64, linux/arm64, linux/arm/v7): this
// machine's busybox-static for its own platform, ForeignBusyboxDir's for the
// others. The same binaries always give the same index digest.
func PushMultiPlatformBusybox(ctx context.Context, ref string, plats []string) (v1.Hash, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return v1.Hash{}, err
	}
	host, err := busyboxPath()
	if err != nil {
		return v1.Hash{}, err
	}
	// Debian builds busybox-static alike for every architecture: the
	// host's applet list holds for all, and no foreign binary has to run.
	applets, err := busyboxApplets(ctx, host)
	if err != nil {
		return v1.Hash{}, err
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, ps := range plats {
		img, p, err := busyboxFor(ps, host, applets)
		if err != nil {
			return v1.Hash{}, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}})
	}
	if err := remote.WriteIndex(r, idx, remote.WithContext(ctx)); err != nil {
		return v1.Hash{}, fmt.Errorf("pushing %s: %w", ref, err)
	}
	return idx.Digest()
}

// busyboxFor is the busybox seed image of one platform ("linux/arm64").
func busyboxFor(ps, host string, applets []string) (v1.Image, *v1.Platform, error) {
	op, err := platforms.Parse(ps)
	if err != nil {
		return nil, nil, fmt.Errorf("platform %q: %w", ps, err)
	}
	op = platforms.Normalize(op)
	arch := op.Architecture
	if op.Variant != "" {
		arch += "/" + op.Variant
	}
	bin := host
	if arch != runtime.GOARCH {
		deb, ok := debianArch[arch]
		if !ok {
			return nil, nil, fmt.Errorf("no Debian busybox-static for %s (known: %v)", ps, debianArch)
		}
		bin = filepath.Join(ForeignBusyboxDir, "busybox-"+deb)
		if _, err := os.Stat(bin); err != nil {
			return nil, nil, fmt.Errorf("%w: run hack/deps to download Debian's busybox-static for %s", err, deb)
		}
	}
	body, err := os.ReadFile(bin)
	if err != nil {
		return nil, nil, err
	}
	layer, err := busyboxLayerOf(body, applets)
	if err != nil {
		return nil, nil, err
	}
	img, err := seedImage(layer, []string{"sh"}, "devcache stack: Debian busybox-static rootfs ("+strings.TrimPrefix(bin, "/")+")")
	if err != nil {
		return nil, nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.Variant = op.Architecture, op.Variant
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, nil, err
	}
	return img, &v1.Platform{OS: op.OS, Architecture: op.Architecture, Variant: op.Variant}, nil
}
