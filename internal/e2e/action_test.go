package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/devcache/devcache/internal/stack"
	"github.com/devcache/devcache/internal/stack/stacktest"
)

// TestActionOnComposeConfig runs the GitHub Action's own steps
// (.github/actions/devcache/action.yml: the plugin's two binaries installed
// from a release, here this checkout's served as release v0.0.0-e2e on
// loopback, then the command) on a Compose config: probe misses (exit-code
// 1, hit=false, the step succeeds), push stores the image, probe hits with
// the pushed image as cached-image.
func TestActionOnComposeConfig(t *testing.T) {
	s := stacktest.Get(t)
	ws := composeWorkspace(t, s.Ref("busybox:latest"), fmt.Sprint(time.Now().UnixNano()))
	repo := s.Ref("e2e/action-compose")
	const version = "v0.0.0-e2e"
	dockerConfig := t.TempDir()
	env := []string{"DOCKER_CONFIG=" + dockerConfig, "BUILDKIT_HOST=" + s.BuildkitAddr, "XDG_CACHE_HOME=" + t.TempDir(),
		"DEVCACHE_RELEASE_URL=" + serveRelease(t, version), "RUNNER_TOOL_CACHE=" + t.TempDir()}
	inputs := map[string]string{"cache-repo": repo, "workspace-folder": ws, "version": version}

	inputs["command"] = "probe"
	if out := runAction(t, env, inputs); out["hit"] != "false" || out["exit-code"] != "1" {
		t.Fatalf("probe before push: outputs %v", out)
	}
	// The plugin hands push to the engine, which must sit beside it.
	for _, bin := range []string{stack.PluginBinary, stack.EngineBinary} {
		if _, err := os.Stat(filepath.Join(dockerConfig, "cli-plugins", bin)); err != nil {
			t.Fatalf("the Action's install: %v", err)
		}
	}
	inputs["command"], inputs["args"] = "push", "--progress quiet"
	if out := runAction(t, env, inputs); out["exit-code"] != "0" {
		t.Fatalf("push: outputs %v", out)
	}
	inputs["command"], inputs["args"] = "probe", ""
	out := runAction(t, env, inputs)
	if out["hit"] != "true" || out["exit-code"] != "0" || !strings.HasPrefix(out["cached-image"], repo+"@sha256:") || !strings.HasPrefix(out["key-tag"], "dc-") {
		t.Fatalf("probe after push: outputs %v", out)
	}
	if files := imageFiles(t, out["cached-image"]); files["/feature-user"] != "nobody\n" {
		t.Errorf("cached image: /feature-user = %q", files["/feature-user"])
	}
}

// serveRelease serves this checkout's two binaries, the plugin and the
// engine, as release version of the layout install.sh downloads
// (BASE/VERSION/docker-devcache_VERSION_linux_ARCH,
// BASE/VERSION/devcache_VERSION_linux_ARCH and SHA256SUMS) and returns BASE.
func serveRelease(t *testing.T, version string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, version)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var sums strings.Builder
	plugin := pluginBinary(t)
	engine := filepath.Join(filepath.Dir(plugin), stack.EngineBinary)
	for name, path := range map[string]string{stack.PluginBinary: plugin, stack.EngineBinary: engine} {
		bin, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		asset := name + "_" + version + "_linux_" + runtime.GOARCH
		sum := sha256.Sum256(bin)
		if err := os.WriteFile(filepath.Join(dir, asset), bin, 0o755); err != nil {
			t.Fatal(err)
		}
		sums.WriteString(hex.EncodeToString(sum[:]) + "  " + asset + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sums.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(root)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// actionExpr is a ${{ … }} expression of the action.
var actionExpr = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

// runAction runs the `run:` steps of the devcache action as a runner
// would (bash, the step's env with its expressions evaluated,
// $GITHUB_OUTPUT), with inputs (their defaults where not given); `uses:`
// steps (setup-go) are the machine's own. It returns the outputs the steps
// wrote.
func runAction(t *testing.T, env []string, inputs map[string]string) map[string]string {
	t.Helper()
	dir := filepath.Join(moduleRoot(t), ".github", "actions", "devcache")
	data, err := os.ReadFile(filepath.Join(dir, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs map[string]struct {
			Default string `yaml:"default"`
		} `yaml:"inputs"`
		Runs struct {
			Steps []struct {
				Name, Uses, Shell, Run, If string
				Env                        map[string]string
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(data, &action); err != nil {
		t.Fatal(err)
	}
	eval := func(s string) string {
		return actionExpr.ReplaceAllStringFunc(s, func(m string) string {
			e := actionExpr.FindStringSubmatch(m)[1]
			if name, ok := strings.CutPrefix(e, "inputs."); ok {
				if v, given := inputs[name]; given {
					return v
				}
				if in, ok := action.Inputs[name]; ok {
					return in.Default
				}
			}
			if e == "github.action_path" {
				return dir
			}
			t.Fatalf("action.yml: expression %q is not known to this test", e)
			return ""
		})
	}
	output := filepath.Join(t.TempDir(), "github_output")
	for _, st := range action.Runs.Steps {
		if st.Run == "" || !stepRuns(t, st.If, eval) {
			continue
		}
		if st.Shell != "bash" {
			t.Fatalf("step %q: shell %q, want bash", st.Name, st.Shell)
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", eval(st.Run))
		cmd.Dir = moduleRoot(t)
		cmd.Env = append(append(os.Environ(), env...), "GITHUB_OUTPUT="+output)
		for k, v := range st.Env {
			cmd.Env = append(cmd.Env, k+"="+eval(v))
		}
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("action step %q: %v\n%s", eval(st.Name), err, lastLines(string(b), 40))
		}
	}
	out := map[string]string{}
	b, _ := os.ReadFile(output)
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			out[k] = v
		}
	}
	return out
}

// stepRuns evaluates a step's if: condition; the action's conditions are
// comparisons of one input with ” (anything else fails the test, so a new
// condition is taught here rather than ignored).
func stepRuns(t *testing.T, cond string, eval func(string) string) bool {
	t.Helper()
	cond = strings.TrimSpace(cond)
	if cond == "" {
		return true
	}
	for _, op := range []string{"!=", "=="} {
		if l, r, ok := strings.Cut(cond, op); ok && strings.TrimSpace(r) == "''" {
			name, ok := strings.CutPrefix(strings.TrimSpace(l), "inputs.")
			if !ok {
				break
			}
			empty := eval("${{ inputs."+name+" }}") == ""
			return empty == (op == "==")
		}
	}
	t.Fatalf("action.yml: condition %q is not known to this test", cond)
	return false
}
