package tfprovider

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcache/devcache/internal/stack"
)

// TestExamplesValidate: the example Coder-style template and the docs'
// examples pass `tofu validate` with this provider (the test binary),
// installed through a dev_overrides CLI configuration (no registry, no
// network).
func TestExamplesValidate(t *testing.T) {
	tofu := useTofu(t)
	root, err := stack.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	// This test binary is the provider (TestMain, serveProviderEnv).
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pluginDir := t.TempDir()
	if err := os.Symlink(self, filepath.Join(pluginDir, "terraform-provider-devcache")); err != nil {
		t.Fatal(err)
	}
	cliConfig := filepath.Join(t.TempDir(), "tofurc")
	overrides := `provider_installation {
  dev_overrides {
    "devcache/devcache" = "` + pluginDir + `"
  }
  direct {}
}
`
	if err := os.WriteFile(cliConfig, []byte(overrides), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ex := range []string{"terraform", "provider", "data-sources/devcache_cached_image"} {
		t.Run(ex, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(filepath.Join(root, "examples", ex))); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(tofu, "validate", "-no-color")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "TF_IN_AUTOMATION=1", serveProviderEnv+"=1")
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "The configuration is valid") {
				t.Fatalf("tofu validate examples/%s: %v\n%s", ex, err, out)
			}
		})
	}
}
