package repotest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// TestWorkflowsLint runs actionlint over every workflow in the repository.
func TestWorkflowsLint(t *testing.T) {
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no workflow files found")
	}
	if out, err := actionlint(root, files); err != nil {
		t.Fatalf("actionlint: %v\n%s", err, out)
	}
}

// actionlint runs the pinned actionlint over files. It is pinned in its own
// modfile: its YAML library version conflicts with the main module's
// dependencies.
func actionlint(root string, files []string) ([]byte, error) {
	args := append([]string{"tool", "-modfile=hack/tools/actionlint.mod", "actionlint", "-no-color"}, files...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "SHELLCHECK_OPTS=")
	return cmd.CombinedOutput()
}
