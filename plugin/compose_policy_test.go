package plugin

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/resolve/resolvetest"
)

// TestAllowPolicyCompose: --allow refuses a Compose service's Dockerfile
// FROM (in any stage) and its image before any request for them.
func TestAllowPolicyCompose(t *testing.T) {
	isolate(t)
	reg := resolvetest.StartRegistry(t)
	reg.PushImage(t, "approved/base:1", resolvetest.ImageConfig{})
	reg.PushImage(t, "unknown/base:1", resolvetest.ImageConfig{})
	allow := "--allow=" + reg.Host + "/approved/*"
	probe := func(ws string) cmdResult {
		return runDevcache(t, "probe", "--workspace-folder", ws, "--cache-repo", reg.Host+"/cache", allow)
	}
	ws := filepath.Join(t.TempDir(), "ws")
	writeFile(t, filepath.Join(ws, ".devcontainer", "devcontainer.json"), `{"dockerComposeFile": "compose.yml", "service": "app"}`, 0o644)
	writeFile(t, filepath.Join(ws, ".devcontainer", "compose.yml"), "services:\n  app:\n    build: .\n", 0o644)
	writeFile(t, filepath.Join(ws, ".devcontainer", "Dockerfile"), "FROM "+reg.Host+"/unknown/base:1 AS build\nRUN true\nFROM "+reg.Host+"/approved/base:1\nCOPY --from=build /x /x\n", 0o644)
	reg.Requests()
	if r := probe(ws); r.code != 2 || !strings.Contains(r.stderr, `Dockerfile FROM "`+reg.Host+`/unknown/base:1"`) {
		t.Errorf("refused Compose Dockerfile FROM: %s", r)
	}
	// dockerComposeFile: [] is the workspace's docker-compose.yml.
	writeFile(t, filepath.Join(ws, ".devcontainer", "devcontainer.json"), `{"dockerComposeFile": [], "service": "app"}`, 0o644)
	writeFile(t, filepath.Join(ws, "docker-compose.yml"), "services:\n  app:\n    build: .devcontainer\n", 0o644)
	if r := probe(ws); r.code != 2 || !strings.Contains(r.stderr, `Dockerfile FROM "`+reg.Host+`/unknown/base:1"`) {
		t.Errorf("refused Dockerfile FROM of the default Compose file: %s", r)
	}
	writeFile(t, filepath.Join(ws, ".devcontainer", "devcontainer.json"), `{"dockerComposeFile": "compose.yml", "service": "app"}`, 0o644)
	writeFile(t, filepath.Join(ws, ".devcontainer", "compose.yml"), "services:\n  app:\n    image: "+reg.Host+"/unknown/base:1\n", 0o644)
	if r := probe(ws); r.code != 2 || !strings.Contains(r.stderr, `image "`+reg.Host+`/unknown/base:1"`) {
		t.Errorf("refused Compose service image: %s", r)
	}
	for _, q := range reg.Requests() {
		if strings.Contains(q, "unknown/base") {
			t.Errorf("refused image was requested: %s", q)
		}
	}
	writeFile(t, filepath.Join(ws, ".devcontainer", "compose.yml"), "services:\n  app:\n    image: "+reg.Host+"/approved/base:1\n", 0o644)
	if r := probe(ws); r.code != 1 {
		t.Errorf("allowed Compose service image: %s", r)
	}
}
