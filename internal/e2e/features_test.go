package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/devcache/devcache/internal/stack/stacktest"
)

// TestFeaturesThroughBuildx builds an image config and a Dockerfile config,
// each with local features, through `docker buildx build -f
// .devcontainer/devcontainer.json .` with the syntax directive and the
// bake-built frontend image, and checks the images in the registry.
func TestFeaturesThroughBuildx(t *testing.T) {
	s := stacktest.Get(t)
	fe := frontendImage(t, s)
	env, _ := dockerEnv(t, s)
	feature := map[string]string{
		".devcontainer/greet/devcontainer-feature.json": `{"id": "greet", "version": "1.0.0",
  "options": {"who": {"type": "string", "default": "world"}},
  "containerEnv": {"PATH": "/opt/greet/bin:${PATH}"}, "init": true}`,
		".devcontainer/greet/install.sh": "#!/bin/sh\nset -e\nmkdir -p /opt/greet/bin\necho \"hello $WHO from $_REMOTE_USER\" > /opt/greet/out\n",
	}
	cases := []struct {
		name   string
		files  map[string]string
		expect func(t *testing.T, env []string, files map[string]string)
	}{
		{"image", map[string]string{
			".devcontainer/devcontainer.json": "// syntax=" + fe + "\n" + `{
  "image": "` + s.Ref("busybox:latest") + `",
  "features": {"./greet": {"who": "buildx"}},
  "remoteUser": "root",
}`,
		}, func(t *testing.T, env []string, files map[string]string) {
			if got := files["/opt/greet/out"]; got != "hello buildx from root\n" {
				t.Errorf("/opt/greet/out = %q", got)
			}
		}},
		{"dockerfile", map[string]string{
			".devcontainer/devcontainer.json": "// syntax=" + fe + "\n" + `{
  "build": {"dockerfile": "Dockerfile", "context": ".."},
  "features": {"./greet": {}},
}`,
			".devcontainer/Dockerfile": "FROM " + s.Ref("busybox:latest") + "\nCOPY marker.txt /marker.txt\nENV FROM_DF=1\n",
			"marker.txt":               "marker\n",
		}, func(t *testing.T, env []string, files map[string]string) {
			if files["/marker.txt"] != "marker\n" || files["/opt/greet/out"] != "hello world from root\n" {
				t.Errorf("marker=%q greet=%q", files["/marker.txt"], files["/opt/greet/out"])
			}
			if !slices.Contains(env, "FROM_DF=1") {
				t.Errorf("Env %q lacks the Dockerfile's ENV", env)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			all := map[string]string{}
			for k, v := range feature {
				all[k] = v
			}
			for k, v := range c.files {
				all[k] = v
			}
			ws := writeWorkspace(t, all)
			ref := s.Ref("e2e/features:" + c.name)
			run(t, ws, env, "docker", "buildx", "build", "-f", ".devcontainer/devcontainer.json",
				"--provenance=false", "--push", "-t", ref, "--progress", "plain", ".")
			cfg, _ := imageConfig(t, ref)
			if !strings.HasPrefix(strings.Join(cfg.Config.Env, " "), "PATH=/opt/greet/bin:") {
				t.Errorf("Env = %q: the feature's containerEnv must extend PATH", cfg.Config.Env)
			}
			if !strings.Contains(cfg.Config.Labels["devcontainer.metadata"], `{"id":"./greet","init":true}`) {
				t.Errorf("label = %s", cfg.Config.Labels["devcontainer.metadata"])
			}
			c.expect(t, cfg.Config.Env, imageFiles(t, ref))
		})
	}
}
