// Package goimage makes a Go builder image from the machine's own Go
// toolchain, for building devcache's Dockerfile where no public registry is
// reachable: the toolchain directory (GOROOT) becomes one layer at
// /usr/local/go on top of a base image with CA certificates.
//
// The layer is deterministic (sorted entries, fixed times and owners), so the
// same toolchain always gives the same digest and a second Ensure only checks
// that the tag exists.
package goimage

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Tag is the image tag Ensure pushes for the running toolchain.
func Tag() string {
	return "go" + strings.TrimPrefix(runtime.Version(), "go")
}

// Ensure pushes <registry>/golang:<Tag()> built on base (e.g.
// "127.0.0.1:5000/debian:bookworm") unless it exists, and returns its ref.
func Ensure(ctx context.Context, registry, base string) (string, error) {
	ref := fmt.Sprintf("%s/golang:%s", registry, Tag())
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", err
	}
	if _, err := remote.Head(r, remote.WithContext(ctx)); err == nil {
		return ref, nil
	}
	baseRef, err := name.ParseReference(base)
	if err != nil {
		return "", err
	}
	baseImg, err := remote.Image(baseRef, remote.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("go image: base %s: %w", base, err)
	}
	goroot := runtime.GOROOT()
	if out, err := exec.CommandContext(ctx, "go", "env", "GOROOT").Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
		goroot = string(bytes.TrimSpace(out))
	}
	layerTar, err := layerFor(goroot)
	if err != nil {
		return "", fmt.Errorf("go image: pack %s: %w", goroot, err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return "", err
	}
	img, err := mutate.Append(baseImg, mutate.Addendum{
		Layer:   layer,
		History: v1.History{CreatedBy: "go toolchain " + runtime.Version(), Created: v1.Time{Time: time.Unix(0, 0)}},
	})
	if err != nil {
		return "", err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return "", err
	}
	cfg = cfg.DeepCopy()
	cfg.Config.Env = setEnv(cfg.Config.Env, "PATH", "/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	cfg.Config.Env = setEnv(cfg.Config.Env, "GOPATH", "/go")
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return "", err
	}
	if err := remote.Write(r, img, remote.WithContext(ctx)); err != nil {
		return "", fmt.Errorf("go image: push %s: %w", ref, err)
	}
	return ref, nil
}

// caBundle is the host's CA certificates, added so that `go build` in the
// image can reach the module proxy even on a base image without them.
const caBundle = "/etc/ssl/certs/ca-certificates.crt"

// layerFor packs goroot at /usr/local/go, plus the host CA bundle.
func layerFor(goroot string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if ca, err := os.ReadFile(caBundle); err == nil {
		for _, d := range []string{"etc/", "etc/ssl/", "etc/ssl/certs/"} {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}); err != nil {
				return nil, err
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(caBundle, "/"), Mode: 0o644, Size: int64(len(ca)), ModTime: time.Unix(0, 0), Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(ca); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{"usr/", "usr/local/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
	}
	if err := tarDir(tw, goroot, "usr/local/go"); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func setEnv(env []string, key, value string) []string {
	out := env[:0:0]
	for _, e := range env {
		if !strings.HasPrefix(e, key+"=") {
			out = append(out, e)
		}
	}
	return append(out, key+"="+value)
}

// tarDir packs dir under prefix with sorted entries and normalised metadata.
func tarDir(tw *tar.Writer, dir, prefix string) error {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)
	epoch := time.Unix(0, 0)
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		nameInTar := prefix
		if rel != "." {
			nameInTar = prefix + "/" + filepath.ToSlash(rel)
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		hdr.Name = nameInTar
		if fi.IsDir() {
			hdr.Name += "/"
		}
		hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = epoch, time.Time{}, time.Time{}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}
