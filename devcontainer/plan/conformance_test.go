package plan_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer"
	"github.com/devcache/devcache/devcontainer/plan"
	"github.com/devcache/devcache/devcontainer/resolve"
)

func mustPlan(t *testing.T, ws string, o plan.Options) *plan.Result {
	t.Helper()
	res, err := planFor(t, ws, newResolver(t, resolve.Options{}), o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func eq(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// C1: an explicit subfolder config uses its own folder's Dockerfile and
// context; without --config the root .devcontainer.json is found.
func TestC1SubfolderConfig(t *testing.T) {
	ws := testdata(t, "conformance/c1-subfolder")
	res := mustPlan(t, ws, plan.Options{ConfigPath: filepath.Join(ws, ".devcontainer/subfolder/devcontainer.json")})
	p := res.Plan
	eq(t, "config", p.ConfigFile, ".devcontainer/subfolder/devcontainer.json")
	eq(t, "dockerfile", p.Base.Dockerfile.Path, ".devcontainer/subfolder/Dockerfile")
	eq(t, "context", p.Base.Dockerfile.Context, ".devcontainer/subfolder")
	eq(t, "base", p.Base.Image.Ref, "devcache.test/ubuntu:latest")
	if len(p.Features) != 0 {
		t.Errorf("features: %v", p.Features)
	}
	eq(t, "label", p.MetadataLabel, `[ {"postCreateCommand":"touch /subfolderConfigPostCreateCommand.txt","remoteEnv":{"SUBFOLDER_CONFIG_REMOTE_ENV":"true"}} ]`)

	root := mustPlan(t, ws, plan.Options{}).Plan
	eq(t, "root config", root.ConfigFile, ".devcontainer.json")
	eq(t, "root dockerfile", root.Base.Dockerfile.Path, "Dockerfile")
	eq(t, "root context", root.Base.Dockerfile.Context, ".")
	// ${VARIANT} in FROM is expanded from build.args, as the reference does.
	eq(t, "root base", root.Base.Image.Ref, "devcache.test/typescript-node:0-16-bullseye")
	eq(t, "root image user", root.ImageUser, "node")
}

// C2: a missing config is the reference's error.
func TestC2MissingConfig(t *testing.T) {
	ws := filepath.Join(t.TempDir(), "path-that-does-not-exist")
	_, err := planFor(t, ws, newResolver(t, resolve.Options{}), plan.Options{})
	if err == nil || !errors.Is(err, devcontainer.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	eq(t, "message", err.Error(), "Dev container config ("+filepath.Join(ws, ".devcontainer", "devcontainer.json")+") not found.")
}

// C3: an image config without features: label only, raw values, runArgs
// left out, no ENV and no user change.
func TestC3ImageLabelOnly(t *testing.T) {
	p := mustPlan(t, testdata(t, "conformance/c3-image"), plan.Options{LookupEnv: func(k string) (string, bool) { return "/host/path", k == "PATH" }}).Plan
	eq(t, "label", p.MetadataLabel, `[ {"postCreateCommand":"echo \"Val: $TEST\" > /postCreateCommand.txt","remoteEnv":{"TEST":"ENV","TEST_ESCAPING":"{\n  \"fo$o\": \"ba'r\"\n}","LOCAL_PATH":"${localEnv:PATH}","CONTAINER_PATH":"${containerEnv:PATH}","TEST_RE":"${containerEnv:TEST_CE}"}} ]`)
	if len(p.Features) != 0 || p.ContainerEnv != nil || p.Users != nil || p.BuiltinEnv != "" {
		t.Errorf("a config without features must add nothing but the label: %+v", p)
	}
	eq(t, "image", p.Base.Image.Ref, "devcache.test/ubuntu:latest")
}

const c4Label = `[ {"id":"baseFeature"}, {"id":"./localFeatureA","onCreateCommand":{"command":"three","commandWithArgs":["four","arg1","arg2"]},"updateContentCommand":["one","two"],"postCreateCommand":"five","postStartCommand":"six","postAttachCommand":"seven","init":true,"customizations":{"vscode":{"extensions":["extensionA","extensionB"]}}}, {"id":"./localFeatureB","privileged":true} ]`

// C4: local features on a base image whose label is a single object.
func TestC4ImageMetadata(t *testing.T) {
	p := mustPlan(t, testdata(t, "conformance/c4-image-metadata"), plan.Options{}).Plan
	var ids []string
	for _, f := range p.Features {
		ids = append(ids, f.ConsecutiveID)
	}
	eq(t, "order", strings.Join(ids, ","), "localFeatureA_0,localFeatureB_1")
	eq(t, "label", p.MetadataLabel, c4Label)
	eq(t, "image user", p.ImageUser, "root")
	eq(t, "builtin env", p.BuiltinEnv, "_CONTAINER_USER=root\n_REMOTE_USER=root\n")
	eq(t, "homes script", p.HomesScript, `echo "_CONTAINER_USER_HOME=$( (command -v getent >/dev/null 2>&1 && getent passwd 'root' || grep -E '^root|^[^:]*:[^:]*:root:' /etc/passwd || true) | cut -d: -f6)" >> /tmp/dev-container-features/devcontainer-features.builtin.env && echo "_REMOTE_USER_HOME=$( (command -v getent >/dev/null 2>&1 && getent passwd 'root' || grep -E '^root|^[^:]*:[^:]*:root:' /etc/passwd || true) | cut -d: -f6)" >> /tmp/dev-container-features/devcontainer-features.builtin.env`)
	// "latest" is no `version` option here, so no option variables.
	eq(t, "env A", p.Features[0].EnvFile, "")
	eq(t, "source", p.Features[0].Source.Path, ".devcontainer/localFeatureA")
}

// C5: --skip-persisting-customizations-from-features.
func TestC5SkipCustomizations(t *testing.T) {
	p := mustPlan(t, testdata(t, "conformance/c4-image-metadata"), plan.Options{SkipCustomizations: true}).Plan
	eq(t, "label", p.MetadataLabel, strings.Replace(c4Label, `,"customizations":{"vscode":{"extensions":["extensionA","extensionB"]}}`, "", 1))
}

// C6: options → env (undeclared options kept, no trailing newline) and the
// legacy feature keys migrated into customizations.
func TestC6Options(t *testing.T) {
	p := mustPlan(t, testdata(t, "conformance/c6-options"), plan.Options{}).Plan
	eq(t, "A id", p.Features[0].ConsecutiveID, "localFeatureA_0")
	eq(t, "A env", p.Features[0].EnvFile, "GREETING=\"Hello there\"\nPUNCTUATION=\"!!!!\"")
	eq(t, "B id", p.Features[1].ConsecutiveID, "localFeatureB_1")
	eq(t, "B env", p.Features[1].EnvFile, `FAVORITE="gold"`)
	eq(t, "label", p.MetadataLabel, `[ {"id":"./localFeatureA","customizations":{"vscode":{"extensions":["dbaeumer.vscode-eslint"],"settings":{"files.watcherExclude":{"**/target/**":true}}}}}, {"id":"./localFeatureB","customizations":{"vscode":{"extensions":["ms-dotnettools.csharp"],"settings":{"files.watcherExclude":{"**/test/**":true}}}}} ]`)
	// The Dockerfile's base user is the image user (no USER in it).
	eq(t, "image user", p.ImageUser, "vscode")
	eq(t, "builtin", p.BuiltinEnv, "_CONTAINER_USER=vscode\n_REMOTE_USER=vscode\n")
}

// C7: local features from a root-level config must be under .devcontainer/.
func TestC7LocalFeaturePaths(t *testing.T) {
	p := mustPlan(t, testdata(t, "conformance/c7-outside"), plan.Options{}).Plan
	eq(t, "A", p.Features[0].Source.Path, ".devcontainer/localFeatureA")
	if !strings.HasPrefix(p.MetadataLabel, `[ {"id":"./.devcontainer/localFeatureA","customizations":`) {
		t.Errorf("label: %s", p.MetadataLabel)
	}

	_, err := planFor(t, testdata(t, "conformance/c7-invalid"), newResolver(t, resolve.Options{}), plan.Options{})
	if err == nil {
		t.Fatal("a local feature outside .devcontainer/ must fail")
	}
	eq(t, "error", err.Error(), `.devcontainer.json:4: features["./local-features/localFeatureA"]: local feature must be inside .devcontainer/`)
}

// C8: a bare id that is not auto-mapped is the reference's legacy error.
func TestC8LegacyID(t *testing.T) {
	_, err := planFor(t, testdata(t, "conformance/c8-legacy-id"), newResolver(t, resolve.Options{}), plan.Options{})
	if err == nil || !strings.Contains(err.Error(), "prepend your Feature name with") {
		t.Fatalf("err = %v", err)
	}
	if !strings.HasPrefix(err.Error(), `.devcontainer.json:4: features.myfeature: Legacy feature 'myfeature' not supported.`) {
		t.Errorf("err = %v", err)
	}
}

var c23Env = [][2]string{
	{"JAVA_HOME", "/usr/lib/jvm/msopenjdk-current"},
	{"VAR_WITH_SPACES", "value with spaces"},
	{"VAR_WITH_LOTS_OF_SPACES", "    value with lots of spaces.   "},
	{"VAR_WITH_QUOTES_WE_WANT_TO_KEEP", `value with "quotes" we want to keep`},
	{"VAR_WITH_DOLLAR_SIGN", "value with $dollar sign"},
	{"VAR_WITH_BACK_SLASH", `value with \back slash`},
	{"ENV_WITH_COMMAND", `bash -c 'echo -n "Hello, World!"'`},
}

// C23: the config's containerEnv is baked literally, in key order, after
// the features' — and only when there are features.
func TestC23ContainerEnv(t *testing.T) {
	p := mustPlan(t, testdata(t, "conformance/c23-container-env"), plan.Options{}).Plan
	if len(p.ContainerEnv) != len(c23Env) {
		t.Fatalf("containerEnv = %v", p.ContainerEnv)
	}
	for i, kv := range c23Env {
		eq(t, kv[0], p.ContainerEnv[i].Name+"="+p.ContainerEnv[i].Value, kv[0]+"="+kv[1])
	}
	eq(t, "feature env", p.Features[0].ContainerEnv[0].Value, "/usr/local/sdkman/candidates/java/current")
	eq(t, "option env", p.Features[0].EnvFile, `VERSION="none"`)
	if !strings.Contains(p.MetadataLabel, `"containerEnv":{"JAVA_HOME":"/usr/lib/jvm/msopenjdk-current","VAR_WITH_SPACES"`) {
		t.Errorf("label lacks containerEnv: %s", p.MetadataLabel)
	}

	nf := mustPlan(t, testdata(t, "conformance/c23-no-features"), plan.Options{}).Plan
	if nf.ContainerEnv != nil {
		t.Errorf("without features containerEnv must not be baked: %v", nf.ContainerEnv)
	}
	if !strings.Contains(nf.MetadataLabel, `"VAR_WITH_BACK_SLASH":"value with \\back slash"`) {
		t.Errorf("label: %s", nf.MetadataLabel)
	}
}

// C24: a feature's containerEnv is kept as written (ENV expands it at build
// time), in key order.
func TestC24FeatureContainerEnv(t *testing.T) {
	p := mustPlan(t, testdata(t, "conformance/c24-feature-env"), plan.Options{}).Plan
	env := p.Features[0].ContainerEnv
	if len(env) != 2 || env[0] != (devcontainer.EnvVar{Name: "PATH", Value: "/opt/x/bin:${PATH}"}) || env[1] != (devcontainer.EnvVar{Name: "A", Value: "$HOME-y"}) {
		t.Errorf("containerEnv = %v", env)
	}
}
