package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcache/devcache/internal/stack/stacktest"
)

// TestVariablesThroughBuildx builds with `docker buildx build` and the
// syntax directive: `--build-arg NAME` without a value sends the client's
// variable for ${localEnv:NAME}, an unset one takes its default, and the
// workspace path comes from --build-arg DEVCACHE_WORKSPACE_FOLDER; without
// it the frontend assumes one and buildx prints a warning naming the build
// arg (also for --call check).
func TestVariablesThroughBuildx(t *testing.T) {
	s := stacktest.Get(t)
	fe := frontendImage(t, s)
	env, _ := dockerEnv(t, s)
	env = append(env, "DEVCACHE_E2E_VAR=from the client")
	ws := writeWorkspace(t, map[string]string{
		".devcontainer/devcontainer.json": "// syntax=" + fe + "\n" + `{
  "image": "` + s.Ref("busybox:latest") + `",
  "features": {"./greet": {}},
  "containerEnv": {
    "FROM_ENV": "${localEnv:DEVCACHE_E2E_VAR}",
    "FROM_LOCAL": "${localEnv:SOME_UNSET_VAR:fallback}",
    "WS": "${containerWorkspaceFolder}"
  },
  "remoteUser": "root"
}`,
		".devcontainer/greet/devcontainer-feature.json": `{"id": "greet", "version": "1.0.0"}`,
		".devcontainer/greet/install.sh":                "#!/bin/sh\necho hi > /greet\n",
	})
	build := func(tag string, args ...string) (map[string]string, string) {
		ref := s.Ref("e2e/variables:" + tag)
		cmd := append([]string{"buildx", "build", "-f", ".devcontainer/devcontainer.json", "--build-arg", "DEVCACHE_E2E_VAR"},
			append(args, "--provenance=false", "--push", "-t", ref, "--progress", "plain", ".")...)
		out, errOut, err := runErr(ws, env, "docker", cmd...)
		if err != nil {
			t.Fatalf("docker %s: %v\n%s%s", strings.Join(cmd, " "), err, out, errOut)
		}
		cfg, _ := imageConfig(t, ref)
		got := map[string]string{}
		for _, e := range cfg.Config.Env {
			k, v, _ := strings.Cut(e, "=")
			got[k] = v
		}
		return got, out + errOut
	}
	check := func(got map[string]string, want map[string]string) {
		t.Helper()
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %q, want %q", k, got[k], v)
			}
		}
	}

	got, out := build("assumed")
	check(got, map[string]string{"FROM_ENV": "from the client", "FROM_LOCAL": "fallback", "WS": "/workspaces/workspace"})
	if !strings.Contains(out, "WorkspaceFolderAssumed") || !strings.Contains(out, "--build-arg DEVCACHE_WORKSPACE_FOLDER=") {
		t.Errorf("no warning naming the build arg in buildx's output:\n%s", out)
	}

	got, out = build("given", "--build-arg", "DEVCACHE_WORKSPACE_FOLDER="+ws)
	check(got, map[string]string{"FROM_ENV": "from the client", "WS": "/workspaces/" + filepath.Base(ws)})
	if strings.Contains(out, "WorkspaceFolderAssumed") {
		t.Errorf("a warning although the workspace was given:\n%s", out)
	}

	out, errOut, _ := runErr(ws, env, "docker", "buildx", "build", "--call", "check", "-f", ".devcontainer/devcontainer.json", ".")
	if !strings.Contains(out+errOut, "WorkspaceFolderAssumed") {
		t.Errorf("--call check does not list the warning:\n%s%s", out, errOut)
	}
}
