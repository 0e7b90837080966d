package conformance

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// RefCLIVersion is the reference CLI the differential tests run.
const RefCLIVersion = "0.89.0"

var (
	installOnce sync.Once
	installDir  string
	installErr  string
)

// ReferenceCLI returns the path of the reference CLI's devcontainer.js,
// installing it with `npm install --prefix <cache dir>` when needed
// ($DEVCACHE_REFCLI_DIR, default <user cache>/devcache/refcli-<version>).
// Without node or npm, or when the install fails, the test is skipped —
// or fails when CI=true.
func ReferenceCLI(t testing.TB) string {
	t.Helper()
	installOnce.Do(func() {
		dir := os.Getenv("DEVCACHE_REFCLI_DIR")
		if dir == "" {
			cache, err := os.UserCacheDir()
			if err != nil {
				installErr = "no user cache dir: " + err.Error()
				return
			}
			dir = filepath.Join(cache, "devcache", "refcli-"+RefCLIVersion)
		}
		js := filepath.Join(dir, "node_modules", "@devcontainers", "cli", "devcontainer.js")
		if _, err := exec.LookPath("node"); err != nil {
			installErr = "node is not installed"
			return
		}
		if _, err := os.Stat(js); err == nil {
			installDir = js
			return
		}
		if _, err := exec.LookPath("npm"); err != nil {
			installErr = "npm is not installed"
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			installErr = err.Error()
			return
		}
		// Test binaries run in parallel: one installs, the others wait.
		lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			installErr = err.Error()
			return
		}
		defer lock.Close()
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
			installErr = "lock " + lock.Name() + ": " + err.Error()
			return
		}
		defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
		if _, err := os.Stat(js); err == nil {
			installDir = js
			return
		}
		cmd := exec.Command("npm", "install", "--prefix", dir, "--no-audit", "--no-fund", "@devcontainers/cli@"+RefCLIVersion)
		if out, err := cmd.CombinedOutput(); err != nil {
			installErr = "npm install @devcontainers/cli@" + RefCLIVersion + ": " + err.Error() + "\n" + string(out)
			return
		}
		installDir = js
	})
	if installDir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("reference CLI unavailable (CI=true, so this fails instead of skipping): %s", installErr)
		}
		t.Skipf("reference CLI unavailable: %s", installErr)
	}
	return installDir
}
