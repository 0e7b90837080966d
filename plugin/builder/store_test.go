package builder

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/docker/cli/cli/command"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/context"
	"github.com/docker/cli/cli/context/docker"
)

// fakeCli is the part of the docker CLI the store reader uses.
type fakeCli struct {
	command.Cli
	dir, context, host string
}

func (f fakeCli) ConfigFile() *configfile.ConfigFile {
	return configfile.New(filepath.Join(f.dir, "config.json"))
}
func (f fakeCli) CurrentContext() string { return f.context }
func (f fakeCli) DockerEndpoint() docker.Endpoint {
	return docker.Endpoint{EndpointMeta: context.EndpointMetaBase{Host: f.host}}
}

func writeStore(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		p = filepath.Join(dir, "buildx", p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCurrentName: the current builder is found as buildx finds it.
func TestCurrentName(t *testing.T) {
	const host = "unix:///var/run/docker.sock"
	sum := sha256.Sum256([]byte(host))
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"global", map[string]string{"current": `{"Key":"other","Name":"b1","Global":true}`, "instances/b1": `{}`}, "b1"},
		{"for this endpoint", map[string]string{"current": `{"Key":"` + host + `","Name":"b2"}`, "instances/b2": `{}`}, "b2"},
		{"for another endpoint", map[string]string{"current": `{"Key":"tcp://x","Name":"b2"}`, "instances/b2": `{}`}, "default"},
		{"removed", map[string]string{"current": `{"Key":"` + host + `","Name":"gone"}`}, "default"},
		{"endpoint default", map[string]string{"defaults/" + hex.EncodeToString(sum[:])[:20]: "b3", "instances/b3": `{}`}, "b3"},
		{"none", nil, "default"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("BUILDX_CONFIG", "")
			writeStore(t, dir, c.files)
			cli := fakeCli{dir: dir, context: "default", host: host}
			got, err := currentName(cli, buildxDir(cli))
			if err != nil || got != c.want {
				t.Errorf("currentName = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

// TestReadGroup: a builder's nodes, endpoints and declared platforms come
// from its instance file.
func TestReadGroup(t *testing.T) {
	dir := t.TempDir()
	writeStore(t, dir, map[string]string{"instances/multi": `{"Name":"multi","Driver":"remote","Nodes":[
		{"Name":"multi0","Endpoint":"tcp://127.0.0.1:1234","Platforms":[{"architecture":"amd64","os":"linux"}]},
		{"Name":"arm","Endpoint":"unix:///run/b.sock","Platforms":[{"architecture":"arm64","os":"linux"}],"DriverOpts":{"cacert":"/ca"}}]}`})
	ng, err := readGroup(filepath.Join(dir, "buildx"), "multi")
	if err != nil {
		t.Fatal(err)
	}
	if ng.Driver != "remote" || len(ng.Nodes) != 2 || ng.Nodes[1].Platforms[0].Architecture != "arm64" || ng.Nodes[1].DriverOpts["cacert"] != "/ca" {
		t.Errorf("read %+v", ng)
	}
}
