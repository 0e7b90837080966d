package frontend

import (
	"strings"
	"testing"

	"github.com/devcache/devcache/internal/imagetest"
	"github.com/devcache/devcache/internal/stack"
	"github.com/devcache/devcache/internal/stack/stacktest"
)

// otherBusybox offers the stack's busybox under a second repository that a
// policy can refuse: a build using it would succeed without the policy.
func otherBusybox(t *testing.T, s *stack.Stack) string {
	t.Helper()
	ref := s.Ref("policy-other/busybox:latest")
	if err := imagetest.Copy(s.Ref("busybox:latest"), ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestSourcePolicyCoversDockerfileStages: with devcache-allow the frontend
// sends the compiled policy with its solves, so buildkitd refuses an image
// any stage of the Dockerfile uses (FROM x AS t + COPY --from=t), also one
// only the Dockerfile sub-solve sees (FROM $IMG with IMG from a build arg,
// where the Plan saw the allowed default), naming the reference and the
// rules; so is a Dockerfile's "# syntax=" frontend image. The same
// configs build when the policy allows them.
func TestSourcePolicyCoversDockerfileStages(t *testing.T) {
	s := stacktest.Get(t)
	other := otherBusybox(t, s)
	busybox := s.Ref("busybox:latest")
	allowBusybox := s.Registry + "/busybox"
	stage := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json": `{"build": {"dockerfile": "Dockerfile"}}`,
		".devcontainer/Dockerfile":        "FROM " + other + " AS t\nRUN echo t > /t\nFROM " + busybox + "\nCOPY --from=t /t /t\n",
	})
	argFrom := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json": `{"build": {"dockerfile": "Dockerfile"}}`,
		".devcontainer/Dockerfile":        "ARG IMG=" + busybox + "\nFROM $IMG AS t\nRUN echo t > /t\nFROM " + busybox + "\nCOPY --from=t /t /t\n",
	})
	argDefault := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json": `{"build": {"dockerfile": "Dockerfile"}}`,
		".devcontainer/Dockerfile":        "ARG IMG=" + other + "\nFROM $IMG\nRUN echo t > /t\n",
	})
	// A "# syntax=" frontend would run inside the Dockerfile sub-solve,
	// where the frontend's policy does not reach; it is checked first.
	syntax := writeTree(t, map[string]string{
		".devcontainer/devcontainer.json": `{"build": {"dockerfile": "Dockerfile"}}`,
		".devcontainer/Dockerfile":        "# syntax=" + other + "\nFROM " + busybox + "\n",
	})
	refused := func(name, ws string, attrs map[string]string) {
		t.Helper()
		_, err := build(t, s, ws, ".devcontainer/devcontainer.json", s.Ref("frontend/policy:"+name), attrs)
		if err == nil {
			t.Errorf("%s: built a config using %s with only %s allowed", name, other, allowBusybox)
			return
		}
		for _, want := range []string{`"` + strings.TrimSuffix(other, ":latest"), "matches none of the --allow rules [" + allowBusybox + "]"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error lacks %q: %v", name, want, err)
			}
		}
	}
	refused("stage", stage, map[string]string{AllowOpt: allowBusybox})
	refused("build-arg", argFrom, map[string]string{AllowOpt: allowBusybox, "build-arg:IMG": other})
	refused("arg-default", argDefault, map[string]string{"build-arg:" + allowBuildArg: allowBusybox})
	refused("syntax", syntax, map[string]string{AllowOpt: allowBusybox})

	both := allowBusybox + "," + s.Registry + "/policy-other/*"
	if _, err := build(t, s, stage, ".devcontainer/devcontainer.json", s.Ref("frontend/policy:stage-allowed"), map[string]string{AllowOpt: both}); err != nil {
		t.Errorf("allowed stage config: %v", err)
	}
	res, err := build(t, s, argFrom, ".devcontainer/devcontainer.json", s.Ref("frontend/policy:arg-allowed"), map[string]string{AllowOpt: both, "build-arg:IMG": other})
	if err != nil {
		t.Fatalf("allowed build-arg config: %v", err)
	}
	if _, files, _ := image(t, res.ref); files["/t"] != "t\n" {
		t.Errorf("allowed build-arg config lacks the stage's file: %q", files["/t"])
	}
}
