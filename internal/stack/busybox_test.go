package stack

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"slices"
	"testing"
)

// needBusybox returns Debian's static busybox, or skips (fails under
// CI=true) when it is not installed.
func needBusybox(t *testing.T) string {
	t.Helper()
	bb, err := busyboxPath()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return bb
}

func TestBusyboxImageIsReproducible(t *testing.T) {
	bb := needBusybox(t)
	ctx := context.Background()
	var digests []string
	for range 2 {
		img, err := busyboxImage(ctx, bb)
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d.String())
	}
	if digests[0] != digests[1] {
		t.Errorf("two builds of the busybox image differ: %s and %s", digests[0], digests[1])
	}
}

func TestBusyboxImageContents(t *testing.T) {
	bb := needBusybox(t)
	img, err := busyboxImage(context.Background(), bb)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Architecture != runtime.GOARCH || cf.OS != "linux" || cf.RootFS.Type != "layers" {
		t.Errorf("platform/rootfs = %s/%s %q", cf.OS, cf.Architecture, cf.RootFS.Type)
	}
	if !slices.Contains(cf.Config.Env, "PATH="+defaultPATH) || !slices.Equal(cf.Config.Cmd, []string{"sh"}) {
		t.Errorf("config Env %q Cmd %q", cf.Config.Env, cf.Config.Cmd)
	}

	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers = %d, %v; want one", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = h
		if !h.ModTime.Equal(seedTime) {
			t.Errorf("%s: mtime %v, want the fixed seed time", h.Name, h.ModTime)
		}
	}
	for name, want := range map[string]func(*tar.Header) bool{
		"bin/busybox":   func(h *tar.Header) bool { return h.Typeflag == tar.TypeReg && h.Mode == 0o755 },
		"bin/sh":        func(h *tar.Header) bool { return h.Typeflag == tar.TypeSymlink && h.Linkname == "/bin/busybox" },
		"usr/bin/env":   func(h *tar.Header) bool { return h.Typeflag == tar.TypeSymlink },
		"tmp/":          func(h *tar.Header) bool { return h.Typeflag == tar.TypeDir && h.Mode == 0o1777 },
		"root/":         func(h *tar.Header) bool { return h.Typeflag == tar.TypeDir },
		"home/user/":    func(h *tar.Header) bool { return h.Uid == 1000 },
		"etc/passwd":    func(h *tar.Header) bool { return h.Typeflag == tar.TypeReg },
		"etc/group":     func(h *tar.Header) bool { return h.Typeflag == tar.TypeReg },
		"sbin/ifconfig": func(h *tar.Header) bool { return h.Typeflag == tar.TypeSymlink },
	} {
		if h, ok := files[name]; !ok || !want(h) {
			t.Errorf("%s: missing or wrong: %+v", name, h)
		}
	}
}
