package e2e

import (
	"strings"
	"testing"

	"github.com/devcache/devcache/internal/imagetest"
	"github.com/devcache/devcache/internal/stack/stacktest"
)

// TestAllowPluginBuild: `docker devcache build --allow` refuses an image
// that any stage of a Dockerfile config uses (FROM x AS t + COPY --from=t),
// also one only buildkitd sees (FROM $IMG with IMG from --build-arg, where
// the Plan saw the allowed default) and one from an ARG default, naming
// the reference and the rules; with the image allowed the same configs
// build.
func TestAllowPluginBuild(t *testing.T) {
	s := stacktest.Get(t)
	busybox := s.Ref("busybox:latest")
	other := s.Ref("policy-other/busybox:latest")
	if err := imagetest.Copy(busybox, other); err != nil {
		t.Fatal(err)
	}
	allow := s.Registry + "/busybox"
	both := []string{"--allow", allow, "--allow", s.Registry + "/policy-other/*"}
	dockerfileWS := func(dockerfile string) string {
		return writeWorkspace(t, map[string]string{
			".devcontainer/devcontainer.json": `{"build": {"dockerfile": "Dockerfile"}}`,
			".devcontainer/Dockerfile":        dockerfile,
		})
	}
	stage := dockerfileWS("FROM " + other + " AS t\nRUN echo t > /t\nFROM " + busybox + "\nCOPY --from=t /t /t\n")
	argFrom := dockerfileWS("ARG IMG=" + busybox + "\nFROM $IMG AS t\nRUN echo t > /t\nFROM " + busybox + "\nCOPY --from=t /t /t\n")
	argDefault := dockerfileWS("ARG IMG=" + other + "\nFROM $IMG\nRUN echo t > /t\n")
	build := func(ws, tag string, args ...string) (string, error) {
		env := []string{"DOCKER_CONFIG=" + t.TempDir(), "BUILDKIT_HOST=" + s.BuildkitAddr}
		args = append([]string{"build", "--progress", "plain", "--push", "-t", s.Ref("e2e/policy:" + tag)}, args...)
		_, errOut, err := runErr(ws, env, pluginBinary(t), args...)
		return errOut, err
	}

	for _, c := range []struct {
		name, ws string
		args     []string
	}{
		{"stage", stage, []string{"--allow", allow}},
		{"build-arg", argFrom, []string{"--allow", allow, "--build-arg", "IMG=" + other}},
		{"arg-default", argDefault, []string{"--allow", allow}},
	} {
		errOut, err := build(c.ws, c.name, c.args...)
		if err == nil {
			t.Errorf("%s: built a config using %s with only %s allowed", c.name, other, allow)
			continue
		}
		for _, want := range []string{`"` + strings.TrimSuffix(other, ":latest"), "matches none of the --allow rules [" + allow + "]"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%s: error lacks %q:\n%s", c.name, want, lastLines(errOut, 20))
			}
		}
	}

	if errOut, err := build(stage, "stage-allowed", both...); err != nil {
		t.Errorf("allowed stage config: %v\n%s", err, lastLines(errOut, 30))
	}
	if errOut, err := build(argFrom, "arg-allowed", append(both, "--build-arg", "IMG="+other)...); err != nil {
		t.Fatalf("allowed build-arg config: %v\n%s", err, lastLines(errOut, 30))
	}
	if files := imageFiles(t, s.Ref("e2e/policy:arg-allowed")); files["/t"] != "t\n" {
		t.Errorf("allowed build-arg config lacks the stage's file: %q", files["/t"])
	}
}
