package release

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// installScript is the Action's install step.
func installScript(t *testing.T) string {
	t.Helper()
	return filepath.Join(moduleRoot(t), ".github", "actions", "devcache", "install.sh")
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// binaries are a release's binaries per platform, installed side by side
// into the plugin directory under these names: the docker CLI plugin and the
// engine it hands commands to.
var binaries = []string{"docker-devcache", "devcache"}

// asset is the release file name of binary bin for os/arch.
func asset(bin, version, osName, arch string) string {
	name := fmt.Sprintf("%s_%s_%s_%s", bin, version, osName, arch)
	if osName == "windows" {
		name += ".exe"
	}
	return name
}

// hostAsset is the release file name of binary bin for this machine.
func hostAsset(bin, version string) string {
	return asset(bin, version, runtime.GOOS, runtime.GOARCH)
}

// releaseServer serves dir's files under /<version>/ (as GitHub serves
// /releases/download/<tag>/) on loopback and counts requests.
type releaseServer struct {
	*httptest.Server
	requests atomic.Int32
}

func serveReleases(t *testing.T, root string) *releaseServer {
	t.Helper()
	rs := &releaseServer{}
	fs := http.FileServer(http.Dir(root))
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs.requests.Add(1)
		fs.ServeHTTP(w, r)
	}))
	t.Cleanup(rs.Close)
	return rs
}

// writeRelease writes a fake release of version under root: the host's
// binaries (scripts printing their name and version) and SHA256SUMS, which
// lists each one's real sum unless badSums gives another for the binary.
func writeRelease(t *testing.T, root, version string, badSums map[string]string) {
	t.Helper()
	dir := filepath.Join(root, version)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var sums strings.Builder
	for _, b := range binaries {
		bin := []byte("#!/bin/sh\necho " + b + " " + version + "\n")
		if err := os.WriteFile(filepath.Join(dir, hostAsset(b, version)), bin, 0o755); err != nil {
			t.Fatal(err)
		}
		sum, bad := badSums[b]
		if !bad {
			sum = fmt.Sprintf("%x", sha256.Sum256(bin))
		}
		fmt.Fprintf(&sums, "%s  %s\n%064x  %s\n", sum, hostAsset(b, version), 0, asset(b, version, "plan9", "mips"))
	}
	if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sums.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// installEnv is what the Action's step sees: a tool cache, a plugin dir
// and the release base URL.
type installEnv struct {
	toolCache, plugins, url string
}

func newInstallEnv(t *testing.T, url string) installEnv {
	return installEnv{toolCache: t.TempDir(), plugins: t.TempDir(), url: url}
}

// install runs install.sh version and returns stdout, stderr and the error.
func (e installEnv) install(t *testing.T, version string) (string, string, error) {
	t.Helper()
	cmd := exec.Command("bash", installScript(t), version)
	cmd.Env = append(os.Environ(),
		"DEVCACHE_RELEASE_URL="+e.url,
		"RUNNER_TOOL_CACHE="+e.toolCache,
		"DEVCACHE_PLUGIN_DIR="+e.plugins,
	)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// toolCacheArch is @actions/tool-cache's name of this machine's arch.
func toolCacheArch() string {
	if runtime.GOARCH == "amd64" {
		return "x64"
	}
	return runtime.GOARCH
}

// TestInstallScript installs releases served on loopback the way the
// Action does: good checksums install both binaries (into the tool cache and
// the plugin directory), a second install of the same version downloads
// nothing, a bad checksum of either binary or an unknown version fails and
// installs nothing.
func TestInstallScript(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the install script runs under bash")
	}
	root := t.TempDir()
	bad := fmt.Sprintf("%064x", 1)
	writeRelease(t, root, "v1.2.3", nil)
	writeRelease(t, root, "v6.6.6", map[string]string{"docker-devcache": bad})
	writeRelease(t, root, "v6.6.7", map[string]string{"devcache": bad})
	srv := serveReleases(t, root)

	t.Run("good checksum, then a cache hit", func(t *testing.T) {
		e := newInstallEnv(t, srv.URL)
		out, errOut, err := e.install(t, "v1.2.3")
		if err != nil {
			t.Fatalf("install.sh v1.2.3: %v\n%s", err, errOut)
		}
		plugin := filepath.Join(e.plugins, "docker-devcache")
		if strings.TrimSpace(out) != plugin {
			t.Errorf("install.sh printed %q, want the plugin's path %s", out, plugin)
		}
		assertInstalled(t, e.plugins, "v1.2.3")
		cached := filepath.Join(e.toolCache, "devcache", "1.2.3", toolCacheArch())
		for _, f := range []string{filepath.Join(cached, "docker-devcache"), filepath.Join(cached, "devcache"), cached + ".complete"} {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("tool cache: %v", err)
			}
		}
		if n := srv.requests.Load(); n != 3 {
			t.Errorf("first install made %d requests, want 3 (SHA256SUMS and the two binaries)", n)
		}

		// A new job on the same runner: the plugin dir is empty, the tool
		// cache is not.
		srv.requests.Store(0)
		e.plugins = t.TempDir()
		if _, errOut, err := e.install(t, "v1.2.3"); err != nil {
			t.Fatalf("install.sh v1.2.3 from the tool cache: %v\n%s", err, errOut)
		}
		if n := srv.requests.Load(); n != 0 {
			t.Errorf("a cached version made %d requests, want none", n)
		}
		assertInstalled(t, e.plugins, "v1.2.3")
	})

	for version, bin := range map[string]string{"v6.6.6": "docker-devcache", "v6.6.7": "devcache"} {
		t.Run("bad checksum of "+bin, func(t *testing.T) {
			e := newInstallEnv(t, srv.URL)
			_, errOut, err := e.install(t, version)
			if err == nil || !strings.Contains(errOut, hostAsset(bin, version)+": sha256") || !strings.Contains(errOut, "does not match SHA256SUMS") {
				t.Fatalf("install.sh with a bad checksum of %s: err %v, stderr %q; want its checksum failure", bin, err, errOut)
			}
			assertEmpty(t, e.plugins)
			assertEmpty(t, e.toolCache)
		})
	}

	t.Run("unknown version", func(t *testing.T) {
		e := newInstallEnv(t, srv.URL)
		_, errOut, err := e.install(t, "v9.9.9")
		if err == nil || !strings.Contains(errOut, "release v9.9.9 not found") {
			t.Fatalf("install.sh v9.9.9: err %v, stderr %q; want release not found", err, errOut)
		}
		assertEmpty(t, e.plugins)
		assertEmpty(t, e.toolCache)
	})

	t.Run("a git ref is not a release", func(t *testing.T) {
		e := newInstallEnv(t, srv.URL)
		_, errOut, err := e.install(t, "main")
		if err == nil || !strings.Contains(errOut, "set the Action's ref input") {
			t.Fatalf("install.sh main: err %v, stderr %q; want advice to use ref", err, errOut)
		}
	})
}

// assertInstalled checks that the plugin directory holds both binaries of
// the release version under their plugin names.
func assertInstalled(t *testing.T, plugins, version string) {
	t.Helper()
	for _, b := range binaries {
		got, err := exec.Command(filepath.Join(plugins, b)).Output()
		if want := b + " " + version + "\n"; err != nil || string(got) != want {
			t.Errorf("installed %s printed %q (%v), want %q (the release's binary)", b, got, err, want)
		}
	}
}

// assertEmpty fails unless dir holds no files (directories are allowed).
func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("%s was written; a failed install must leave nothing", p)
		}
		return nil
	})
}
