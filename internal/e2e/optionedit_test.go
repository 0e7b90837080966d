package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/devcache/devcache/internal/stack/stacktest"
)

// optionWorkspace has three local features installed in the order a, b, c,
// each with an option "v"; b's value is bValue.
func optionWorkspace(t *testing.T, base, nonce, bValue string) string {
	files := map[string]string{
		".devcontainer/devcontainer.json": `{
  "image": "` + base + `",
  "features": {"./a": {"v": "1"}, "./b": {"v": "` + bValue + `"}, "./c": {"v": "1"}},
  "overrideFeatureInstallOrder": ["./a", "./b", "./c"],
  "remoteUser": "root"
}
`,
	}
	for _, id := range []string{"a", "b", "c"} {
		files[".devcontainer/"+id+"/devcontainer-feature.json"] = `{"id": "` + id + `", "version": "1.0.0", "options": {"v": {"type": "string", "default": "0"}}}`
		files[".devcontainer/"+id+"/install.sh"] = "#!/bin/sh\nset -e\necho " + id + " " + nonce + " $V > /feature-" + id + "\n"
	}
	return writeWorkspace(t, files)
}

// TestPushFeatureOptionEdit: after editing the option of the second of
// three features, a push on the same builder runs that feature's install
// step and the one after it (its base changed), and takes the first's from
// the builder's cache: an option is in its own feature's step only.
func TestPushFeatureOptionEdit(t *testing.T) {
	s := stacktest.Get(t)
	nonce := fmt.Sprint(time.Now().UnixNano())
	repo := s.Ref("e2e/push-option-edit")
	devcache(t, optionWorkspace(t, s.Ref("busybox:latest"), nonce, "1"), s.BuildkitAddr, nil, "push", "--cache-repo", repo, "--progress", "quiet")
	_, errOut := devcache(t, optionWorkspace(t, s.Ref("busybox:latest"), nonce, "2"), s.BuildkitAddr, nil, "push", "--cache-repo", repo, "--progress", "rawjson")
	runs := vertexRuns(t, errOut)
	for step, ran := range map[string]bool{
		"[devcontainer] install feature ./a": false,
		"[devcontainer] install feature ./b": true,
		"[devcontainer] install feature ./c": true,
	} {
		if got, ok := runs[step]; !ok {
			t.Errorf("no %q in the solve status: %v", step, runs)
		} else if got != ran {
			t.Errorf("%q ran=%v, want %v (all: %v)", step, got, ran, runs)
		}
	}
	if runs["[devcontainer] look up the users' home directories"] {
		t.Errorf("the steps before the features ran again: %v", runs)
	}
}
