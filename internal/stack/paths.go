package stack

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// modulePath is the module whose tool directives pin the stack's binaries.
const modulePath = "github.com/devcache/devcache"

// maxSocketPath is the longest unix socket path Linux accepts (sun_path is
// 108 bytes including the terminating NUL).
const maxSocketPath = 107

// Files and directories inside a stack directory.
const (
	stateFile        = "stack.json"
	lockFile         = ".lock"
	registryName     = "registry"
	buildkitdName    = "buildkitd"
	registryDataDir  = "registry"
	buildkitdRootDir = "buildkitd"
	buildkitdSocket  = "buildkitd.sock"
	otelSocket       = "otel.sock"
	dockerConfigDir  = "docker"
)

// CacheDir is the per-machine cache shared by every stack: built tools under
// bin/<stamp>/ and the Debian rootfs under images/. It is $DEVCACHE_STACK_CACHE_DIR
// when set, else devcache/ under the user cache directory (~/.cache).
func CacheDir() (string, error) {
	if d := os.Getenv("DEVCACHE_STACK_CACHE_DIR"); d != "" {
		return filepath.Abs(d)
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locating the user cache directory (set DEVCACHE_STACK_CACHE_DIR): %w", err)
	}
	return filepath.Join(d, "devcache"), nil
}

// ModuleRoot returns the directory holding devcache's go.mod, independent of
// the working directory: first from where this source file was compiled,
// then (for -trimpath builds) from `go env GOMOD` in the working directory.
func ModuleRoot() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		if root, ok := findModule(filepath.Dir(file)); ok {
			return root, nil
		}
	}
	goBin, err := goCommand()
	if err != nil {
		return "", err
	}
	out, err := exec.CommandContext(context.Background(), goBin, "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("locating the module root: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull || !isDevcacheModule(gomod) {
		return "", fmt.Errorf("locating the module root: the working directory is not inside %s (go env GOMOD = %q)", modulePath, gomod)
	}
	return filepath.Dir(gomod), nil
}

func findModule(dir string) (string, bool) {
	for {
		if isDevcacheModule(filepath.Join(dir, "go.mod")) {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func isDevcacheModule(gomod string) bool {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return false
	}
	first, _, _ := bytes.Cut(b, []byte("\n"))
	return strings.TrimSpace(string(first)) == "module "+modulePath
}

// goCommand finds the go command: on PATH, else in the GOROOT this binary
// was built with.
func goCommand() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p, nil
	}
	return "", fmt.Errorf("the go command is not on PATH (install Go as go.mod asks, e.g. /usr/local/go/bin)")
}

// sbinPATH returns path with the sbin directories appended where missing:
// Debian installs runc in /usr/sbin, which is not on every user's PATH.
func sbinPATH(path string) string {
	have := map[string]bool{}
	for _, d := range filepath.SplitList(path) {
		have[d] = true
	}
	for _, d := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin", "/bin"} {
		if !have[d] {
			if path != "" {
				path += string(os.PathListSeparator)
			}
			path += d
		}
	}
	return path
}

func lookPathIn(name, path string) (string, error) {
	for _, d := range filepath.SplitList(path) {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
