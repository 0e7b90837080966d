package e2e

import (
	"context"
	"github.com/devcache/devcache/internal/stack"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/devcache/devcache/internal/stack/stacktest"
)

// The label the reference CLI writes for thinSliceConfig: only the picked
// keys of the raw config, in the reference's key order (integer-like keys of
// portsAttributes first), variables kept literally.
const thinSliceLabel = `[ {"postCreateCommand":"echo \"hi $USER\"","remoteEnv":{"LOCAL_PATH":"${localEnv:PATH}"},"portsAttributes":{"3000":{"label":"api"},"8080":{"label":"web"}},"forwardPorts":[8080,3000]} ]`

func thinSliceConfig(syntax, image string) string {
	return `// syntax=` + syntax + `
{
  // An image config without features: the base plus the metadata label.
  "image": "` + image + `",
  "name": "thin slice",
  "forwardPorts": [8080, 3000],
  "portsAttributes": {"8080": {"label": "web"}, "3000": {"label": "api"}},
  "remoteEnv": {"LOCAL_PATH": "${localEnv:PATH}"},
  "postCreateCommand": "echo \"hi $USER\"", // trailing comma next
}
`
}

// TestThinSliceBuildxAndPlugin builds one image-only devcontainer.json
// through the bake-built frontend image with `docker buildx build` and the
// syntax directive, and through `docker devcache build` (the plugin from a
// temporary DOCKER_CONFIG, against the current buildx builder and against
// --buildkit-host), and checks each pushed image's config in the registry.
func TestThinSliceBuildxAndPlugin(t *testing.T) {
	s := stacktest.Get(t)
	fe := frontendImage(t, s)
	base := s.Ref("busybox:latest")
	ws := writeWorkspace(t, map[string]string{
		".devcontainer/devcontainer.json": thinSliceConfig(fe, base),
	})
	env, dockerConfig := dockerEnv(t, s)

	// The plugin, installed where the docker CLI finds plugins.
	pluginPath, err := stack.InstallPlugin(context.Background(), filepath.Join(dockerConfig, "cli-plugins"), "")
	if err != nil {
		t.Fatal(err)
	}

	baseCfg, _ := imageConfig(t, base)

	check := func(t *testing.T, ref string) string {
		cfg, digest := imageConfig(t, ref)
		if got := cfg.Config.Labels["devcontainer.metadata"]; got != thinSliceLabel {
			t.Errorf("%s: devcontainer.metadata =\n%s\nwant\n%s", ref, got, thinSliceLabel)
		}
		if !slices.Equal(cfg.Config.Env, baseCfg.Config.Env) {
			t.Errorf("%s: Env = %q, want the base's %q", ref, cfg.Config.Env, baseCfg.Config.Env)
		}
		if !slices.Equal(cfg.Config.Cmd, baseCfg.Config.Cmd) || cfg.Config.User != baseCfg.Config.User ||
			cfg.Config.WorkingDir != baseCfg.Config.WorkingDir || !slices.Equal(cfg.Config.Entrypoint, baseCfg.Config.Entrypoint) {
			t.Errorf("%s: config %s differs from the base's %s", ref, mustJSON(t, cfg.Config), mustJSON(t, baseCfg.Config))
		}
		if !slices.Equal(cfg.RootFS.DiffIDs, baseCfg.RootFS.DiffIDs) {
			t.Errorf("%s: layers %v, want exactly the base's %v (no new layer without features)", ref, cfg.RootFS.DiffIDs, baseCfg.RootFS.DiffIDs)
		}
		return digest.String()
	}

	var digests []string
	t.Run("buildx-syntax-directive", func(t *testing.T) {
		ref := s.Ref("e2e/thin:buildx")
		run(t, ws, env, "docker", "buildx", "build", "-f", ".devcontainer/devcontainer.json",
			"--provenance=false", "--push", "-t", ref, "--progress", "plain", ".")
		digests = append(digests, check(t, ref))
	})
	t.Run("plugin-help", func(t *testing.T) {
		out := run(t, ws, env, "docker", "devcache", "--help")
		for _, want := range []string{"build", "version", "Examples:"} {
			if !strings.Contains(out, want) {
				t.Errorf("docker devcache --help lacks %q:\n%s", want, out)
			}
		}
		if out := run(t, ws, env, "docker", "devcache", "version"); !strings.HasPrefix(out, "devcache ") {
			t.Errorf("docker devcache version = %q", out)
		}
		if out := run(t, ws, env, pluginPath, "docker-cli-plugin-metadata"); !strings.Contains(out, `"SchemaVersion": "0.1.0"`) {
			t.Errorf("metadata = %s", out)
		}
	})
	t.Run("plugin-current-builder", func(t *testing.T) {
		ref := s.Ref("e2e/thin:plugin")
		out := run(t, ws, env, "docker", "devcache", "build", "--push", "-t", ref, "--progress", "plain")
		if !strings.Contains(out, s.Ref("e2e/thin")+"@sha256:") {
			t.Errorf("build printed %q, want the pushed digest reference", out)
		}
		digests = append(digests, check(t, ref))
	})
	t.Run("plugin-buildkit-host", func(t *testing.T) {
		ref := s.Ref("e2e/thin:host")
		env := append(slices.Clone(env), "BUILDKIT_HOST="+s.BuildkitAddr)
		run(t, ws, env, "docker", "devcache", "build", "--push", "-t", ref, "--progress", "quiet")
		digests = append(digests, check(t, ref))
	})
	// The same config through either path is the same image.
	for _, d := range digests[1:] {
		if d != digests[0] {
			t.Errorf("manifest digests differ between paths: %v", digests)
		}
	}
}

// TestBakePrint checks that the bake definition is valid and names every
// target and platform.
func TestBakePrint(t *testing.T) {
	s := stacktest.Get(t)
	env, _ := dockerEnv(t, s)
	out := run(t, moduleRoot(t), env, "docker", "buildx", "bake", "--print", "frontend", "plugin")
	for _, want := range []string{`"frontend"`, `"plugin"`, `"linux/arm64"`, `"windows/amd64"`, `"windows/arm64"`, `"darwin/amd64"`, `"darwin/arm64"`} {
		if !strings.Contains(out, want) {
			t.Errorf("bake --print lacks %s:\n%s", want, out)
		}
	}
}

// TestFrontendImage checks the bake-built frontend image: a scratch image
// whose entrypoint is the frontend and whose caps label lets the gateway
// accept named contexts, inputs and subrequests.
func TestFrontendImage(t *testing.T) {
	s := stacktest.Get(t)
	cfg, _ := imageConfig(t, frontendImage(t, s))
	const caps = "moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
	if got := cfg.Config.Labels["moby.buildkit.frontend.caps"]; got != caps {
		t.Errorf("caps label = %q, want %q", got, caps)
	}
	if !slices.Equal(cfg.Config.Entrypoint, []string{"/bin/devcache-frontend"}) {
		t.Errorf("entrypoint = %q", cfg.Config.Entrypoint)
	}
	if len(cfg.RootFS.DiffIDs) != 1 {
		t.Errorf("layers = %d, want 1 (the frontend binary on scratch)", len(cfg.RootFS.DiffIDs))
	}
}
