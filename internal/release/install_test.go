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

// hostAsset is the release file name of the plugin for this machine.
func hostAsset(version string) string {
	name := fmt.Sprintf("docker-devcache_%s_%s_%s", version, runtime.GOOS, runtime.GOARCH)
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	return name
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
// plugin binary (a script printing its version) and SHA256SUMS, which
// lists sum for it (its real sum when sum is empty).
func writeRelease(t *testing.T, root, version, sum string) {
	t.Helper()
	dir := filepath.Join(root, version)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := []byte("#!/bin/sh\necho devcache " + version + "\n")
	if err := os.WriteFile(filepath.Join(dir, hostAsset(version)), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if sum == "" {
		sum = fmt.Sprintf("%x", sha256.Sum256(bin))
	}
	sums := fmt.Sprintf("%s  %s\n%064x  docker-devcache_%s_plan9_mips\n", sum, hostAsset(version), 0, version)
	if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sums), 0o644); err != nil {
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
// Action does: a good checksum installs (into the tool cache and the plugin
// directory), a second install of the same version downloads nothing, a
// bad checksum or an unknown version fails and installs nothing.
func TestInstallScript(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the install script runs under bash")
	}
	root := t.TempDir()
	writeRelease(t, root, "v1.2.3", "")
	writeRelease(t, root, "v6.6.6", fmt.Sprintf("%064x", 1))
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
		if got, err := exec.Command(plugin).Output(); err != nil || string(got) != "devcache v1.2.3\n" {
			t.Errorf("installed plugin printed %q (%v), want the release's binary", got, err)
		}
		cached := filepath.Join(e.toolCache, "devcache", "1.2.3", toolCacheArch())
		for _, f := range []string{filepath.Join(cached, "docker-devcache"), cached + ".complete"} {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("tool cache: %v", err)
			}
		}
		if n := srv.requests.Load(); n != 2 {
			t.Errorf("first install made %d requests, want 2 (SHA256SUMS and the binary)", n)
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
		if _, err := os.Stat(filepath.Join(e.plugins, "docker-devcache")); err != nil {
			t.Errorf("cache hit did not install the plugin: %v", err)
		}
	})

	t.Run("bad checksum", func(t *testing.T) {
		e := newInstallEnv(t, srv.URL)
		_, errOut, err := e.install(t, "v6.6.6")
		if err == nil || !strings.Contains(errOut, "does not match SHA256SUMS") {
			t.Fatalf("install.sh with a bad checksum: err %v, stderr %q; want a checksum failure", err, errOut)
		}
		assertEmpty(t, e.plugins)
		assertEmpty(t, e.toolCache)
	})

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
