package stack

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"runtime"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// seedTime is the fixed time of every file and config in the seed images,
// so their digests depend on their contents only.
var seedTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const defaultPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Users of the busybox image: root and a normal user, as dev container
// configs expect (remoteUser, containerUser).
const (
	busyboxPasswd = "root:x:0:0:root:/root:/bin/sh\n" +
		"user:x:1000:1000:user:/home/user:/bin/sh\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
	busyboxGroup = "root:x:0:\n" +
		"user:x:1000:\n" +
		"nogroup:x:65534:\n"
)

func (s *Stack) busyboxSeed() seed {
	return seed{repo: BusyboxRepo, recipe: "busybox/v2", build: func(ctx context.Context) (v1.Image, error) {
		bb, err := busyboxPath()
		if err != nil {
			return nil, err
		}
		return busyboxImage(ctx, bb)
	}}
}

// busyboxImage builds the tiny base image from Debian's static busybox:
// /bin/busybox, a symlink for each applet at the path busybox reports
// (/bin/sh, /usr/bin/env, …), /etc/passwd and /etc/group, /tmp (1777),
// /root and /home/user. The same busybox binary always gives the same
// digest.
func busyboxImage(ctx context.Context, busybox string) (v1.Image, error) {
	layer, err := busyboxLayer(ctx, busybox)
	if err != nil {
		return nil, err
	}
	return seedImage(layer, []string{"sh"}, "devcache stack: Debian busybox-static rootfs")
}

func busyboxLayer(ctx context.Context, busybox string) (v1.Layer, error) {
	bin, err := os.ReadFile(busybox)
	if err != nil {
		return nil, fmt.Errorf("reading busybox: %w", err)
	}
	applets, err := busyboxApplets(ctx, busybox)
	if err != nil {
		return nil, err
	}
	return busyboxLayerOf(bin, applets)
}

// busyboxLayerOf is the rootfs layer of the busybox binary bin with links
// for applets.
func busyboxLayerOf(bin []byte, applets []string) (v1.Layer, error) {
	rootfs, err := busyboxRootfs(bin, applets)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(rootfs)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("making the busybox layer: %w", err)
	}
	return layer, nil
}

// busyboxApplets lists the applets' install paths, e.g. "usr/bin/env".
func busyboxApplets(ctx context.Context, busybox string) ([]string, error) {
	out, err := exec.CommandContext(ctx, busybox, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list-full: %w", busybox, err)
	}
	var applets []string
	for _, l := range strings.Fields(string(out)) {
		l = path.Clean(strings.TrimPrefix(l, "/"))
		if l == "bin/busybox" || strings.HasPrefix(l, "..") || l == "." {
			continue
		}
		applets = append(applets, l)
	}
	if len(applets) == 0 {
		return nil, fmt.Errorf("%s --list-full listed no applets", busybox)
	}
	return applets, nil
}

type tarEntry struct {
	hdr  tar.Header
	body []byte
}

func busyboxRootfs(bin []byte, applets []string) ([]byte, error) {
	entries := map[string]tarEntry{}
	dir := func(name string, mode int64, uid int) {
		entries[name] = tarEntry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: uid, Gid: uid}}
	}
	file := func(name string, mode int64, body []byte) {
		entries[name] = tarEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(body))}, body: body}
	}
	for _, d := range []string{"bin", "dev", "etc", "home", "proc", "sbin", "sys", "usr", "usr/bin", "usr/sbin", "var"} {
		dir(d, 0o755, 0)
	}
	dir("root", 0o700, 0)
	dir("tmp", 0o1777, 0)
	dir("var/tmp", 0o1777, 0)
	dir("home/user", 0o755, 1000)
	file("bin/busybox", 0o755, bin)
	file("etc/passwd", 0o644, []byte(busyboxPasswd))
	file("etc/group", 0o644, []byte(busyboxGroup))
	for _, a := range applets {
		if _, ok := entries[path.Dir(a)]; !ok && path.Dir(a) != "." {
			return nil, fmt.Errorf("busybox applet %s is in an unexpected directory", a)
		}
		if _, ok := entries[a]; ok {
			continue
		}
		entries[a] = tarEntry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: a, Linkname: "/bin/busybox", Mode: 0o777}}
	}

	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names) // parents sort before their children
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		e := entries[n]
		e.hdr.ModTime = seedTime
		if err := tw.WriteHeader(&e.hdr); err != nil {
			return nil, fmt.Errorf("writing busybox rootfs %s: %w", n, err)
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, fmt.Errorf("writing busybox rootfs %s: %w", n, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("writing busybox rootfs: %w", err)
	}
	return buf.Bytes(), nil
}

// isStaticELF reports whether the ELF file at p has no program interpreter.
func isStaticELF(p string) (bool, error) {
	f, err := elf.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return false, nil
		}
	}
	return true, nil
}

// seedConfig is the config of both seed images: this machine's platform
// (BuildKit refuses to export an image whose base lacks an architecture),
// the usual PATH and cmd.
func seedConfig(cmd []string) *v1.ConfigFile {
	return &v1.ConfigFile{
		Architecture: runtime.GOARCH,
		OS:           "linux",
		Created:      v1.Time{Time: seedTime},
		RootFS:       v1.RootFS{Type: "layers"},
		Config: v1.Config{
			Env: []string{"PATH=" + defaultPATH},
			Cmd: cmd,
		},
	}
}
