package stack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Plugin binaries: the docker CLI plugin and the devcache binary it hands
// every command but probe and version to, which it finds beside itself.
const (
	PluginBinary = "docker-devcache"
	EngineBinary = "devcache"
)

// InstallPlugin puts both binaries into dir (e.g. a DOCKER_CONFIG's
// cli-plugins): built from this module, or, when prebuilt names a
// docker-devcache binary built elsewhere, copied from it and the devcache
// binary beside it. It returns the plugin's path.
func InstallPlugin(ctx context.Context, dir, prebuilt string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	plugin := filepath.Join(dir, PluginBinary)
	if prebuilt != "" {
		for src, dst := range map[string]string{prebuilt: plugin, filepath.Join(filepath.Dir(prebuilt), EngineBinary): filepath.Join(dir, EngineBinary)} {
			if out, err := exec.CommandContext(ctx, "cp", src, dst).CombinedOutput(); err != nil {
				return "", fmt.Errorf("copying the prebuilt plugin: %v\n%s", err, out)
			}
		}
		return plugin, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(filepath.Separator), "./cmd/"+PluginBinary, "./cmd/"+EngineBinary)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the plugin: %v\n%s", err, out)
	}
	return plugin, nil
}
