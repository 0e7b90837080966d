package e2e

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"

	"github.com/devcache/devcache/internal/frontendimage"
	"github.com/devcache/devcache/internal/stack/stacktest"
	"github.com/devcache/devcache/plugin/builder"
)

// archProbe is a static program for the base images of the multi-node
// test: it writes the machine the kernel (or QEMU) reports to /arch, so the
// image shows where and how its RUN step ran, without a shell.
const archProbe = `package main

import (
	"os"
	"syscall"
)

func main() {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		panic(err)
	}
	var b []byte
	for _, c := range u.Machine {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	if err := os.WriteFile("/arch", append(b, '\n'), 0o644); err != nil {
		panic(err)
	}
}
`

// archBase pushes an index of linux/amd64 and linux/arm64 images, each
// holding /bin/archprobe built for its architecture, and returns its reference.
func archBase(t *testing.T, ref string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(archProbe), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, dir, nil, "go", "mod", "init", "archprobe")
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, arch := range []string{"amd64", "arm64"} {
		bin := filepath.Join(dir, "archprobe-"+arch)
		run(t, dir, []string{"GOOS=linux", "GOARCH=" + arch, "CGO_ENABLED=0"}, "go", "build", "-o", bin, ".")
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		img, err := frontendimage.FileImage(data, "bin/archprobe", arch)
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestMultiNodeBuilder: a buildx builder of two remote nodes, the second
// declaring linux/arm64 (run under QEMU, binfmt_misc with the F flag):
// push --platform linux/amd64,linux/arm64 solves each platform on its
// node (each daemon's build history holds only its own platform), the arm64
// RUN step ran as aarch64, and the pushed index is byte for byte the one a
// single node pushes for the same config.
func TestMultiNodeBuilder(t *testing.T) {
	needQEMU(t)
	s := stacktest.Get(t)
	second := freshDaemon(t)
	env, dc := dockerEnv(t, s)
	if err := os.Symlink(pluginBinary(t), filepath.Join(dc, "cli-plugins", "docker-devcache")); err != nil {
		t.Fatal(err)
	}
	nonce := fmt.Sprint(time.Now().UnixNano())
	base := archBase(t, s.Ref("e2e/archbase:"+nonce))
	ws := writeWorkspace(t, map[string]string{
		".devcontainer/devcontainer.json": `{"build": {"dockerfile": "Dockerfile"}, "remoteUser": "root"}`,
		".devcontainer/Dockerfile":        "FROM " + base + "\nLABEL nonce=" + nonce + "\nRUN [\"/bin/archprobe\"]\n",
	})
	run(t, ws, env, "docker", "buildx", "create", "--name", "multi", "--driver", "remote", "--platform", "linux/amd64", s.BuildkitAddr)
	run(t, ws, env, "docker", "buildx", "create", "--name", "multi", "--append", "--node", "multi-arm64", "--platform", "linux/arm64", second.BuildkitAddr)

	repo := s.Ref("e2e/multinode-" + nonce)
	out, progress, err := runErr(ws, env, "docker", "devcache", "push", "--builder", "multi", "--platform", "linux/amd64,linux/arm64", "--cache-repo", repo, "--progress", "plain")
	if err != nil {
		t.Fatalf("push: %v\n%s\n%s", err, out, progress)
	}
	m := refRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("push printed no digest reference:\n%s", out)
	}
	for addr, want := range map[string]string{s.BuildkitAddr: "linux/amd64", second.BuildkitAddr: "linux/arm64"} {
		if got := solvedPlatforms(t, addr, nonce); len(got) != 1 || got[0] != want {
			t.Errorf("daemon %s solved platforms %v, want only %s", addr, got, want)
		}
	}
	// Each node keeps its layer cache under a scope tag of its own, and
	// one per its platform's key (cache-dc-<key>).
	var scopeTags, keyTags []string
	for _, tag := range cacheTags(t, repo) {
		if strings.HasPrefix(tag, "cache-dc-") {
			keyTags = append(keyTags, tag)
		} else {
			scopeTags = append(scopeTags, tag)
		}
	}
	// Each node exports its layer cache once (to its key's tag) and points
	// its scope's tag at the same manifest: two manifests in all.
	manifests := map[string]bool{}
	for _, tag := range append(append([]string{}, scopeTags...), keyTags...) {
		ref, _ := name.ParseReference(repo + ":" + tag)
		d, err := remote.Head(ref)
		if err != nil {
			t.Fatal(err)
		}
		manifests[d.Digest.String()] = true
	}
	if len(manifests) != 2 {
		t.Errorf("the nodes' layer cache tags hold %d manifests, want 2 (one per node)", len(manifests))
	}
	if len(scopeTags) != 2 || len(keyTags) != 2 {
		t.Errorf("layer cache tags: scope %v, key %v; want one of each per node; push printed:\n%s\n%s", scopeTags, keyTags, out, lastLines(progress, 40))
	}
	for arch, want := range map[string]string{"amd64": "x86_64", "arm64": "aarch64"} {
		files := platformFiles(t, m[1], arch)
		if got := strings.TrimSpace(files["/arch"]); got != want {
			t.Errorf("%s image's /arch = %q, want %q (the RUN step ran on the wrong machine)", arch, got, want)
		}
	}

	// build of one platform runs on the node that declares it.
	arm := writeWorkspace(t, map[string]string{
		".devcontainer/devcontainer.json": `{"build": {"dockerfile": "Dockerfile"}, "remoteUser": "root"}`,
		".devcontainer/Dockerfile":        "FROM " + base + "\nLABEL nonce=" + nonce + "-build\nRUN [\"/bin/archprobe\"]\n",
	})
	run(t, arm, env, "docker", "devcache", "build", "--builder", "multi", "--platform", "linux/arm64", "--progress", "quiet")
	if got := solvedPlatforms(t, second.BuildkitAddr, nonce+"-build"); len(got) != 1 || got[0] != "linux/arm64" {
		t.Errorf("build --platform linux/arm64: the arm64 node solved %v, want linux/arm64", got)
	}
	if got := solvedPlatforms(t, s.BuildkitAddr, nonce+"-build"); len(got) != 0 {
		t.Errorf("build --platform linux/arm64: the amd64 node solved %v, want nothing", got)
	}

	// build --push of both platforms builds each on its node too, and
	// pushes one index with the two.
	both := writeWorkspace(t, map[string]string{
		".devcontainer/devcontainer.json": `{"build": {"dockerfile": "Dockerfile"}, "remoteUser": "root"}`,
		".devcontainer/Dockerfile":        "FROM " + base + "\nLABEL nonce=" + nonce + "-both\nRUN [\"/bin/archprobe\"]\n",
	})
	built := s.Ref("e2e/multibuild-"+nonce) + ":both"
	run(t, both, env, "docker", "devcache", "build", "--builder", "multi", "--platform", "linux/amd64,linux/arm64", "--push", "-t", built, "--progress", "quiet")
	for addr, want := range map[string]string{s.BuildkitAddr: "linux/amd64", second.BuildkitAddr: "linux/arm64"} {
		if got := solvedPlatforms(t, addr, nonce+"-both"); len(got) != 1 || got[0] != want {
			t.Errorf("build --push: daemon %s solved platforms %v, want only %s", addr, got, want)
		}
	}
	for arch, want := range map[string]string{"amd64": "x86_64", "arm64": "aarch64"} {
		if got := strings.TrimSpace(platformFiles(t, built, arch)["/arch"]); got != want {
			t.Errorf("build --push: %s image's /arch = %q, want %q", arch, got, want)
		}
	}

	// One node for both platforms (QEMU on the first daemon) pushes the
	// same index to another repository.
	single := s.Ref("e2e/singlenode-" + nonce)
	out = run(t, ws, env, "docker", "devcache", "push", "--buildkit-host", s.BuildkitAddr, "--platform", "linux/amd64,linux/arm64", "--cache-repo", single, "--progress", "quiet")
	m2 := refRE.FindStringSubmatch(out)
	if m2 == nil {
		t.Fatalf("single-node push printed no digest reference:\n%s", out)
	}
	if d1, d2 := digestOf(m[1]), digestOf(m2[1]); d1 != d2 {
		t.Errorf("two nodes pushed index %s, one node %s: the merged index differs", d1, d2)
	}
}

// TestDialStdioBuilder: with every node reached through `docker buildx
// dial-stdio` (the path of the drivers the plugin does not link), the
// current builder builds and pushes.
func TestDialStdioBuilder(t *testing.T) {
	s := stacktest.Get(t)
	env, dc := dockerEnv(t, s)
	if err := os.Symlink(pluginBinary(t), filepath.Join(dc, "cli-plugins", "docker-devcache")); err != nil {
		t.Fatal(err)
	}
	nonce := fmt.Sprint(time.Now().UnixNano())
	ws := pushWorkspace(t, s.Ref("busybox:latest"), nonce, "echo three > /three")
	env = append(env, builder.DialEnv+"=stdio")
	out := run(t, ws, env, "docker", "devcache", "push", "--cache-repo", s.Ref("e2e/dialstdio-"+nonce), "--progress", "plain")
	if refRE.FindStringSubmatch(out) == nil {
		t.Fatalf("push printed no digest reference:\n%s", out)
	}
	if got := solvedPlatforms(t, s.BuildkitAddr, nonce); len(got) == 0 {
		t.Errorf("the stack's daemon has no build of this workspace: dial-stdio did not reach it")
	}
}

// needQEMU skips (fails under CI=true) without arm64 emulation registered
// with the F flag, which a daemon's sandbox needs.
func needQEMU(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/fs/binfmt_misc/qemu-aarch64")
	if err == nil && strings.HasPrefix(string(b), "enabled") {
		for _, l := range strings.Split(string(b), "\n") {
			if f, ok := strings.CutPrefix(l, "flags: "); ok && strings.Contains(f, "F") {
				return
			}
		}
	}
	msg := "no qemu-aarch64 binfmt_misc handler with the F flag (hack/deps installs Debian's qemu-user-static, which registers it)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// solvedPlatforms are the platform attributes of the builds in the
// daemon's history whose frontend or exporter attributes (the pushed
// repository) mention nonce.
func solvedPlatforms(t *testing.T, addr, nonce string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.New(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stream, err := c.ControlClient().ListenBuildHistory(ctx, &controlapi.BuildHistoryRequest{EarlyExit: true})
	if err != nil {
		t.Fatal(err)
	}
	var ps []string
	for {
		ev, err := stream.Recv()
		if err == io.EOF {
			return ps
		}
		if err != nil {
			t.Fatal(err)
		}
		rec := ev.Record
		if rec == nil || !strings.Contains(fmt.Sprint(rec.FrontendAttrs, rec.Exporters), nonce) {
			continue
		}
		ps = append(ps, rec.FrontendAttrs["platform"])
	}
}

// platformFiles are the files of the arch image of index ref.
func platformFiles(t *testing.T, ref, arch string) map[string]string {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: arch}))
	if err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return imageFiles(t, r.Context().Digest(d.String()).String())
}

// cacheTags are repo's layer cache tags.
func cacheTags(t *testing.T, repo string) []string {
	t.Helper()
	r, err := name.NewRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	all, err := remote.List(r)
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, tag := range all {
		if strings.HasPrefix(tag, "cache-") {
			tags = append(tags, tag)
		}
	}
	return tags
}

func digestOf(ref string) string {
	_, d, _ := strings.Cut(ref, "@")
	return d
}
