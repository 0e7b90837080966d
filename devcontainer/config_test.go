package devcontainer

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/jsonc"
)

func parse(t *testing.T, src string, vars *Variables) *Config {
	t.Helper()
	c, err := ParseAt("devcontainer.json", "/ws/.devcontainer/devcontainer.json", []byte(src), vars)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func get(t *testing.T, o *jsonc.Object, path ...string) string {
	t.Helper()
	var v jsonc.Value = o
	for _, k := range path {
		v, _ = v.(*jsonc.Object).Get(k)
	}
	return jsonc.Stringify(v)
}

func TestSubstitution(t *testing.T) {
	vars := &Variables{LocalEnv: func(k string) (string, bool) {
		v, ok := map[string]string{"HOME": "/home/me", "EMPTY": ""}[k]
		return v, ok
	}, LocalWorkspaceFolder: "/src/my-proj"}
	c := parse(t, `{
		"image": "x",
		"containerEnv": {
			"A": "${localEnv:HOME}", "B": "${env:HOME}", "C": "${localEnv:NOPE}", "D": "${localEnv:NOPE:def:ignored}",
			"E": "${localEnv:EMPTY:def}", "F": "${localWorkspaceFolder}|${localWorkspaceFolderBasename}",
			"G": "${containerWorkspaceFolder}|${containerWorkspaceFolderBasename}",
			"H": "${containerEnv:PATH}|${devcontainerId}|${unknown}|${localEnv:HOME}${localEnv:HOME}",
			"${localEnv:HOME}": "keys are not substituted"
		},
		"features": {"./f": {"opt": "${localEnv:HOME}"}}
	}`, vars)
	want := map[string]string{
		"A": "/home/me", "B": "/home/me", "C": "", "D": "def", "E": "", "F": "/src/my-proj|my-proj",
		"G": "/workspaces/my-proj|my-proj", "H": "${containerEnv:PATH}|${devcontainerId}|${unknown}|/home/me/home/me",
		"${localEnv:HOME}": "keys are not substituted",
	}
	for _, e := range c.ContainerEnv {
		if want[e.Name] != e.Value {
			t.Errorf("%s = %q, want %q", e.Name, e.Value, want[e.Name])
		}
	}
	if got := jsonc.Stringify(c.Features[0].Value); got != `{"opt":"/home/me"}` {
		t.Errorf("feature options: %s", got)
	}
	// The raw form (the label's) is unsubstituted.
	if got := get(t, c.Raw, "containerEnv", "A"); got != `"${localEnv:HOME}"` {
		t.Errorf("raw: %s", got)
	}
	// workspaceFolder feeds ${containerWorkspaceFolder}.
	c = parse(t, `{"image":"x","workspaceFolder":"/w/${localWorkspaceFolderBasename}","containerEnv":{"G":"${containerWorkspaceFolderBasename}"}}`, vars)
	if c.ContainerEnv[0].Value != "my-proj" {
		t.Errorf("workspaceFolder: %q", c.ContainerEnv[0].Value)
	}
	// Unknown workspace (e.g. inside a frontend): left literal.
	c = parse(t, `{"image":"x","containerEnv":{"G":"${containerWorkspaceFolder}${localWorkspaceFolder}"}}`, &Variables{})
	if c.ContainerEnv[0].Value != "${containerWorkspaceFolder}${localWorkspaceFolder}" {
		t.Errorf("unknown workspace: %q", c.ContainerEnv[0].Value)
	}
	_, err := ParseAt("devcontainer.json", "", []byte("{\"image\": \"x\",\n \"remoteEnv\": {\"X\": \"${localEnv}\"}}"), vars)
	if err == nil || err.Error() != `devcontainer.json:2: remoteEnv.X: '${localEnv}' in devcontainer.json can not be resolved because no environment variable name is given.` {
		t.Errorf("err = %v", err)
	}
}

// TestWorkspaceFolderUsed checks that the hook reports exactly the values
// that depend on the local workspace path.
func TestWorkspaceFolderUsed(t *testing.T) {
	for _, tc := range []struct {
		name, config string
		want         bool
	}{
		{"no variables", `{"image":"x","containerEnv":{"A":"a"}}`, false},
		{"localEnv only", `{"image":"x","containerEnv":{"A":"${localEnv:HOME}"}}`, false},
		{"workspaceFolder stated", `{"image":"x","workspaceFolder":"/w","containerEnv":{"A":"${containerWorkspaceFolder}"}}`, false},
		{"workspaceFolder unused", `{"image":"x","workspaceFolder":"/w/${localWorkspaceFolderBasename}","containerEnv":{"A":"a"}}`, false},
		{"runtime only", `{"image":"x","workspaceMount":"source=${localWorkspaceFolder},target=/w,type=bind","runArgs":["${localWorkspaceFolderBasename}"]}`, false},
		{"workspaceFolder from local", `{"image":"x","workspaceFolder":"/w/${localWorkspaceFolderBasename}","containerEnv":{"A":"${containerWorkspaceFolder}"}}`, true},
		{"default rule", `{"image":"x","containerEnv":{"A":"${containerWorkspaceFolderBasename}"}}`, true},
		{"localWorkspaceFolder", `{"image":"x","workspaceFolder":"/w","containerEnv":{"A":"${localWorkspaceFolder}"}}`, true},
		{"basename in a feature option", `{"image":"x","features":{"./f":{"o":"${localWorkspaceFolderBasename}"}}}`, true},
	} {
		used := false
		parse(t, tc.config, &Variables{LocalWorkspaceFolder: "/src/p", WorkspaceFolderUsed: func() { used = true }})
		if used != tc.want {
			t.Errorf("%s: used = %v, want %v", tc.name, used, tc.want)
		}
	}
	// Re-substituting a base image's metadata entry counts too.
	used := false
	c := parse(t, `{"image":"x"}`, &Variables{LocalWorkspaceFolder: "/src/p", WorkspaceFolderUsed: func() { used = true }})
	entry, err := jsonc.Parse([]byte(`{"remoteUser": "${containerWorkspaceFolderBasename}"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Substitute(entry); err != nil || !used {
		t.Errorf("Substitute: used = %v, err = %v", used, err)
	}
}

func TestLegacyKeys(t *testing.T) {
	c := parse(t, `{"image":"x","extensions":["b"],"settings":{"s1":1,"s2":2},"devPort":8000,
		"customizations":{"vscode":{"extensions":["a"],"settings":{"s2":"kept"}}}}`, nil)
	if got := jsonc.Stringify(c.Raw); got != `{"image":"x","customizations":{"vscode":{"extensions":["a","b"],"settings":{"s1":1,"s2":"kept"},"devPort":8000}}}` {
		t.Errorf("migrated: %s", got)
	}
	c = parse(t, `{"image":"x","devPort":1,"customizations":{"vscode":{"devPort":2}}}`, nil)
	if got := jsonc.Stringify(c.Raw); got != `{"image":"x","devPort":1,"customizations":{"vscode":{"devPort":2}}}` {
		t.Errorf("devPort kept when set: %s", got)
	}
	c = parse(t, `{"image":"x","extensions":[]}`, nil)
	if got := jsonc.Stringify(c.MetadataEntry()); got != `{"customizations":{"vscode":{"extensions":[]}}}` {
		t.Errorf("empty extensions (truthy in JS): %s", got)
	}
}

func TestKindsAndErrors(t *testing.T) {
	for src, want := range map[string]string{
		`{}`:                                   "devcontainer.json: No image information specified in devcontainer.json.",
		`[]`:                                   "devcontainer.json: Dev container config (/ws/.devcontainer/devcontainer.json) must contain a JSON object literal.",
		"{\n\"dockerComposeFile\": \"x.yml\"}": "devcontainer.json:2: dockerComposeFile: a Docker Compose config needs `service`",
		"{\n\"dockerComposeFile\": \"\", \"service\": \"a\"}": "devcontainer.json:2: dockerComposeFile: must be a Compose file's path or an array of them",
		"{\n\"dockerComposeFile\": [1], \"service\": \"a\"}":  "devcontainer.json:2: dockerComposeFile[0]: must be a non-empty string",
		"{\"image\": \"x\",\n\"features\": {\"a\": [1]}}":     `devcontainer.json:2: features.a: must be an options object, a version string or a boolean`,
		"{\"image\": 1}":                 "devcontainer.json:1: image: must be a string",
		"{\n\"image\": \"x\"\n\"b\": 1}": "devcontainer.json:3: ",
	} {
		_, err := ParseAt("devcontainer.json", "/ws/.devcontainer/devcontainer.json", []byte(src), nil)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %s", src, err, want)
		}
	}
	// Compose files resolve against the config's folder, in order.
	c := parse(t, `{"dockerComposeFile":["../docker-compose.yml","x.yml"],"service":"app","image":"ignored"}`, nil)
	if c.Kind != KindCompose || c.Compose == nil || c.Compose.Service != "app" ||
		strings.Join(c.Compose.Files, " ") != "/ws/docker-compose.yml /ws/.devcontainer/x.yml" {
		t.Errorf("compose: %+v", c.Compose)
	}
	c = parse(t, `{"dockerComposeFile":"dc.yml","service":"app"}`, nil)
	if c.Compose == nil || len(c.Compose.Files) != 1 || c.Compose.Files[0] != "/ws/.devcontainer/dc.yml" {
		t.Errorf("compose string: %+v", c.Compose)
	}
	// Dockerfile wins over image; the context defaults to the Dockerfile's folder.
	c = parse(t, `{"image":"tag","build":{"dockerfile":"../docker/Dockerfile","args":{"A":"1","N":2},"target":"dev","cacheFrom":"x"}}`, nil)
	if c.Kind != KindDockerfile || c.Build.Path != "/ws/docker/Dockerfile" || c.Build.Context != "/ws/docker" || c.Build.Target != "dev" ||
		len(c.Build.Args) != 2 || c.Build.Args[1].Value != "2" || c.Build.CacheFrom[0] != "x" {
		t.Errorf("build: %+v", c.Build)
	}
	c = parse(t, `{"dockerFile":"Dockerfile","context":".."}`, nil)
	if c.Build.Path != "/ws/.devcontainer/Dockerfile" || c.Build.Context != "/ws" {
		t.Errorf("legacy dockerFile/context: %+v", c.Build)
	}
	c = parse(t, `{"build":{"dockerfile":"D","options":["--label","a=b=c","--add-host=h:1.2.3.4","--network","host","--build-arg","X=1","--no-cache","--pull","--shm-size=1g","--ulimit","nofile=1024"]}}`, nil)
	o := c.Build.Options
	if len(o.Labels) != 1 || o.Labels[0] != (EnvVar{"a", "b=c"}) || o.AddHosts[0] != "h=1.2.3.4" || o.Network != "host" || !o.NoCache || !o.Pull ||
		o.BuildArgs[0] != (EnvVar{"X", "1"}) || o.ShmSize != "1g" || o.Ulimits[0] != "nofile=1024" {
		t.Errorf("options: %+v", o)
	}
	// --add-host values become BuildKit's host=ip (issue 11).
	c = parse(t, `{"build":{"dockerfile":"D","options":["--add-host","a=10.0.0.1","--add-host=b:[::1]","--add-host","c:::2"]}}`, nil)
	if h := c.Build.Options.AddHosts; !reflect.DeepEqual(h, []string{"a=10.0.0.1", "b=::1", "c=::2"}) {
		t.Errorf("add hosts: %q", h)
	}
	if _, err := ParseAt("devcontainer.json", "/ws/d.json", []byte(`{"build": {"dockerfile": "D", "options": ["--add-host", "h:host-gateway"]}}`), nil); err == nil || !strings.Contains(err.Error(), "build.options[1]: --add-host h:host-gateway: want host:ip") {
		t.Errorf("host-gateway: %v", err)
	}
	_, err := ParseAt("devcontainer.json", "/ws/d.json", []byte("{\"build\": {\"dockerfile\": \"D\",\n\"options\": [\"--label\", \"a=b\", \"--squash\"]}}"), nil)
	if err == nil || !strings.HasPrefix(err.Error(), `devcontainer.json:2: build.options[2]: docker build option "--squash" cannot be honoured by a BuildKit frontend`) {
		t.Errorf("rejected option: %v", err)
	}
}

func TestFindAndLoad(t *testing.T) {
	ws := t.TempDir()
	if _, err := Find(ws, ""); !errors.Is(err, ErrNotFound) || err.Error() != "Dev container config ("+filepath.Join(ws, ".devcontainer", "devcontainer.json")+") not found." {
		t.Errorf("missing: %v", err)
	}
	os.WriteFile(filepath.Join(ws, ".devcontainer.json"), []byte(`{"image":"root"}`), 0o644)
	if p, err := Find(ws, ""); err != nil || p != filepath.Join(ws, ".devcontainer.json") {
		t.Errorf("root: %s %v", p, err)
	}
	os.MkdirAll(filepath.Join(ws, ".devcontainer", "sub"), 0o755)
	os.WriteFile(filepath.Join(ws, ".devcontainer", "devcontainer.json"), []byte(`{"image":"dot"}`), 0o644)
	os.WriteFile(filepath.Join(ws, ".devcontainer", "sub", "devcontainer.json"), []byte(`{"image":"sub",}`), 0o644)
	p, err := Find(ws, "")
	if err != nil || p != filepath.Join(ws, ".devcontainer", "devcontainer.json") {
		t.Errorf(".devcontainer first: %s %v", p, err)
	}
	sub := filepath.Join(ws, ".devcontainer", "sub", "devcontainer.json")
	if p, err := Find(ws, sub); err != nil || p != sub {
		t.Errorf("explicit: %s %v", p, err)
	}
	c, err := Load(ws, sub, nil)
	if err != nil || c.Image != "sub" || c.File != ".devcontainer/sub/devcontainer.json" {
		t.Errorf("load: %+v %v", c, err)
	}
}

func TestMetadataLabel(t *testing.T) {
	base := ParseMetadataLabel(`[{"id":"a"},{}, 5]`)
	single := ParseMetadataLabel(`{"id":"b","8080":1,"x":"<&>` + "\u2028" + `"}`)
	if len(ParseMetadataLabel(`// no comments in labels
[{"id":"a"}]`)) != 0 || len(ParseMetadataLabel("not json")) != 0 {
		t.Error("an unparseable label must give no entries")
	}
	label, ok := MetadataLabel(append(base, single...))
	if !ok || label != `[ {"id":"a"}, {"8080":1,"id":"b","x":"<&>`+"\u2028"+`"} ]` {
		t.Errorf("label: %s", label)
	}
	if _, ok := MetadataLabel([]*jsonc.Object{jsonc.NewObject()}); ok {
		t.Error("no entries must give no label")
	}
}
