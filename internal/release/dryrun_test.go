package release

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcache/devcache/internal/goimage"
	"github.com/devcache/devcache/internal/stack/stacktest"
)

// dryRunVersion is a release version whose moving tags (1.2, 1) the dry
// run must push.
const dryRunVersion = "v1.2.3"

// allPlatforms are a release's plugin platforms.
var allPlatforms = []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64", "windows/arm64"}

// testPlatforms are the plugin platforms the test builds. A cold
// cross-compile of the plugin costs about 7 CPU minutes (measured: over
// 400 CPU seconds for darwin/arm64 with an empty build cache), 3.5 minutes
// of CI's two cores, so by default only the two linux ones, which the
// frontend image's two platforms compile anyway in the same stage (no extra
// compile); DEVCACHE_RELEASE_ALL=1 builds all six, as a release does, and
// hack/release checks all six on every release.
func testPlatforms() []string {
	if os.Getenv("DEVCACHE_RELEASE_ALL") == "1" {
		return allPlatforms
	}
	return []string{"linux/amd64", "linux/arm64"}
}

// TestReleaseDryRun runs `hack/release --dry-run` on the test stack (its
// builder, its registry for the frontend image, a Go image from this
// machine's toolchain) and checks the release it wrote: both binaries of
// every platform (docker-devcache and devcache) under their release names
// with a provenance attestation, SHA256SUMS of every file, the stamped
// version in both binaries' metadata and in `version`, the frontend image
// under each tag for both platforms, and that the Action's install script
// installs the host's two binaries from it.
func TestReleaseDryRun(t *testing.T) {
	s := stacktest.Get(t)
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Minute)
	defer cancel()
	goRef, err := goimage.Ensure(ctx, s.Registry, s.Ref("busybox:latest"))
	if err != nil {
		t.Fatal(err)
	}
	root, dist, repo := moduleRoot(t), t.TempDir(), s.Ref("devcache/frontend-release")
	platforms := testPlatforms()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "release"), "--dry-run", dryRunVersion)
	cmd.Dir = root
	cmd.Env = append(append(os.Environ(), s.Env()...),
		"GO_IMAGE="+goRef, "DIST="+dist, "FRONTEND_REPO="+repo, "BUILDKIT_PROGRESS=plain",
		"PLUGIN_PLATFORMS="+strings.Join(platforms, ","))
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hack/release --dry-run: %v\n%s", err, tail(string(out), 80))
	}
	t.Logf("hack/release --dry-run for %v took %s", platforms, time.Since(start).Round(time.Second))

	rel := filepath.Join(dist, "release")
	checkSums(t, rel)
	checkBinaries(t, rel, platforms)
	checkFrontendTags(t, repo)
	checkInstall(t, rel, repo+":1.2.3")
}

// checkSums checks that SHA256SUMS lists every other file of dir with its
// sum, and nothing else.
func checkSums(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, file, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q is not \"SUM  FILE\"", sc.Text())
		}
		listed[file] = sum
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "SHA256SUMS" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(data)); listed[e.Name()] != got {
			t.Errorf("SHA256SUMS has %q for %s, want %s", listed[e.Name()], e.Name(), got)
		}
		delete(listed, e.Name())
	}
	for file := range listed {
		t.Errorf("SHA256SUMS lists %s, which the release lacks", file)
	}
}

// checkBinaries checks both binaries of platforms and their provenance,
// and runs the host's. (checkSums has checked that SHA256SUMS covers them.)
func checkBinaries(t *testing.T, dir string, platforms []string) {
	t.Helper()
	for _, p := range platforms {
		osName, arch, _ := strings.Cut(p, "/")
		for _, b := range binaries {
			f := asset(b, dryRunVersion, osName, arch)
			for _, want := range []string{f, f + ".provenance.json"} {
				if st, err := os.Stat(filepath.Join(dir, want)); err != nil || st.Size() == 0 {
					t.Errorf("release lacks %s (%v)", want, err)
				}
			}
		}
	}
	for _, b := range binaries {
		host := filepath.Join(dir, hostAsset(b, dryRunVersion))
		out, err := exec.Command(host, "docker-cli-plugin-metadata").Output()
		if err != nil {
			t.Fatalf("%s docker-cli-plugin-metadata: %v", host, err)
		}
		var meta struct{ Version string }
		if err := json.Unmarshal(out, &meta); err != nil || meta.Version != dryRunVersion {
			t.Errorf("%s metadata %s: Version %q (%v), want %s", b, out, meta.Version, err, dryRunVersion)
		}
	}
}

// checkFrontendTags checks that repo:1.2.3, :1.2 and :1 are one index of
// linux/amd64 and linux/arm64.
func checkFrontendTags(t *testing.T, repo string) {
	t.Helper()
	var digests []string
	for _, tag := range []string{"1.2.3", "1.2", "1"} {
		ref, err := name.ParseReference(repo+":"+tag, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		idx, err := remote.Index(ref)
		if err != nil {
			t.Errorf("frontend image %s: %v", ref, err)
			continue
		}
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		var platforms []string
		for _, m := range im.Manifests {
			if m.Platform != nil && m.Platform.OS != "unknown" {
				platforms = append(platforms, m.Platform.OS+"/"+m.Platform.Architecture)
			}
		}
		slices.Sort(platforms)
		if !slices.Equal(platforms, []string{"linux/amd64", "linux/arm64"}) {
			t.Errorf("frontend image %s: platforms %v, want linux/amd64 and linux/arm64", ref, platforms)
		}
		d, _ := idx.Digest()
		digests = append(digests, d.String())
	}
	if len(slices.Compact(digests)) != 1 {
		t.Errorf("frontend tags name different images: %v", digests)
	}
}

// checkInstall serves the release on loopback and installs the host's
// binaries with the Action's install script; both must then report the
// release's version and frontend image.
func checkInstall(t *testing.T, dir, frontend string) {
	t.Helper()
	releases := t.TempDir()
	if err := os.Symlink(dir, filepath.Join(releases, dryRunVersion)); err != nil {
		t.Fatal(err)
	}
	e := newInstallEnv(t, serveReleases(t, releases).URL)
	plugin, errOut, err := e.install(t, dryRunVersion)
	if err != nil {
		t.Fatalf("install.sh %s from the dry run: %v\n%s", dryRunVersion, err, errOut)
	}
	plugins := filepath.Dir(strings.TrimSpace(plugin))
	for _, b := range binaries {
		out, err := exec.Command(filepath.Join(plugins, b), "version").CombinedOutput()
		if err != nil {
			t.Fatalf("installed %s version: %v\n%s", b, err, out)
		}
		for _, want := range []string{"devcache " + dryRunVersion + " ", "frontend image " + frontend + "\n"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s version printed %q, want %q", b, out, want)
			}
		}
	}
}

func tail(s string, n int) string {
	l := strings.Split(s, "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
