package stack

import (
	"os/exec"
	"strings"
	"testing"
)

// Exports must survive eval in a POSIX shell, quoting included, and add
// BinDir to PATH only once.
func TestExportsEvalInShell(t *testing.T) {
	s := &Stack{
		Dir:          "/tmp/it's here",
		BinDir:       "/cache/bin/$x",
		BuildkitAddr: "unix:///tmp/it's here/buildkitd.sock",
		Registry:     "127.0.0.1:5000",
		DockerConfig: "/tmp/it's here/docker",
		Builder:      BuilderName,
	}
	script := s.Exports() + s.Exports() + `printf '%s\n' "$BUILDKIT_HOST" "$DOCKER_CONFIG" "$BUILDX_BUILDER" "$DEVCACHE_REGISTRY" "$DEVCACHE_STACK_DIR" "$PATH"`
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, out)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	want := []string{s.BuildkitAddr, s.DockerConfig, s.Builder, s.Registry, s.Dir}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("line %d = %q, want %q", i, got[i], w)
		}
	}
	if path := got[len(got)-1]; !strings.HasPrefix(path, s.BinDir+":") || strings.Count(path, s.BinDir) != 1 {
		t.Errorf("PATH = %q, want %s first, once", path, s.BinDir)
	}
}
