package repotest

import (
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestActionsLint checks every composite action under .github/actions:
// actionlint does not lint action metadata files by itself, so each
// action's steps are wrapped in a reusable workflow whose inputs are the
// action's inputs, and that workflow is linted (expressions, contexts,
// step outputs, and shell scripts when shellcheck is installed). Workflows
// that use the actions are checked by TestWorkflowsLint, which also
// validates their `with:` against the action's inputs.
func TestActionsLint(t *testing.T) {
	root := repoRoot(t)
	actions, err := filepath.Glob(filepath.Join(root, ".github", "actions", "*", "action.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(actions) == 0 {
		t.Fatal("no action found under .github/actions")
	}
	dir := filepath.Join(t.TempDir(), ".github", "workflows")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, a := range actions {
		data, err := os.ReadFile(a)
		if err != nil {
			t.Fatal(err)
		}
		var meta struct {
			Name    string               `yaml:"name"`
			Inputs  map[string]yaml.Node `yaml:"inputs"`
			Outputs map[string]struct {
				Value string `yaml:"value"`
			} `yaml:"outputs"`
			Runs struct {
				Using string      `yaml:"using"`
				Steps []yaml.Node `yaml:"steps"`
			} `yaml:"runs"`
		}
		if err := yaml.Unmarshal(data, &meta); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		if meta.Name == "" || meta.Runs.Using != "composite" || len(meta.Runs.Steps) == 0 {
			t.Fatalf("%s: want a named composite action with steps", a)
		}
		inputs := map[string]any{}
		for name := range meta.Inputs {
			inputs[name] = map[string]any{"type": "string", "required": false}
		}
		outputs := map[string]any{}
		for name, o := range meta.Outputs {
			if o.Value == "" {
				t.Errorf("%s: output %s has no value", a, name)
			}
			// Composite outputs reference the steps: a job output has the
			// same expression context.
			outputs[name] = o.Value
		}
		wf := map[string]any{
			"name": "action " + meta.Name,
			"on":   map[string]any{"workflow_call": map[string]any{"inputs": inputs}},
			"jobs": map[string]any{"action": map[string]any{
				"runs-on": "ubuntu-24.04",
				"outputs": outputs,
				"steps":   meta.Runs.Steps,
			}},
		}
		out, err := yaml.Marshal(wf)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, filepath.Base(filepath.Dir(a))+".yml")
		if err := os.WriteFile(f, out, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if out, err := actionlint(root, files); err != nil {
		t.Fatalf("actionlint on the composite actions' steps: %v\n%s", err, out)
	}
}
